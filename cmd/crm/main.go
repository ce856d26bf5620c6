// Command crm is the CRM's one binary: `crm serve` runs the product, the other
// subcommands administer it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones in an image without /usr/share/zoneinfo

	"github.com/crm-team/crm/internal/procmem"
)

// env is what a subcommand gets: configuration, logger and the standard streams.
type env struct {
	cfg    Config
	log    *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// metrics are crm serve's (/metrics); nil in other commands.
	metrics *serveMetrics
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the CRM until SIGTERM or Ctrl-C", runServe},
		"migrate":     {"create every collection and index (safe to run again), repair keys", runMigrate},
		"doctor":      {"check the configuration and the database, and say how to fix what is wrong", runDoctor},
		"import":      {"import clients from a CSV or xlsx file: crm import [-comma ';'] clients.csv; orders from 1C or MoySklad: crm import orders orders.xlsx", runImport},
		"export":      {"export clients: crm export [-o file] [-comma ';'], or for Excel crm export -o clients.xlsx; orders: crm export orders [orders.xlsx|orders.csv]", runExport},
		"chat":        {"talk to the bot in the terminal: crm chat --as \"Anna Petrova\"", runChat},
		"manager":     {"the team: crm manager add|list|invite [--name N] [--role manager|head|admin]; set <name> --head <name|none> [--email E]", runManager},
		"campaign":    {"mailings: crm campaign create|list|preview|test|start|pause|resume|status|report|edit|delete|archive (crm campaign shows how)", runCampaign},
		"company":     {"the company's requisites on invoices: crm company show; crm company set --name N --inn … --bank … (crm company set -h)", runCompany},
		"invoice":     {"an order's invoice (Счёт на оплату) as a PDF: crm invoice ORDER [-o FILE]", runInvoice},
		"backup":      {"write the whole base to a file, while crm serve runs: crm backup FILE", runBackup},
		"restore":     {"load a backup into an empty database of either engine (to move to MongoDB, set CRM_MONGODB_URI): crm restore FILE", runRestore},
		"version":     {"the version, commit and build date", runVersion},
		"healthcheck": {"exit 0 when crm serve answers /healthz on CRM_HTTP_ADDR (a container's health check)", runHealthcheck},
		"report":      {"reports for heads: crm report funnel [--from D --to D] [--city C] [--manager M] [--format table|csv|xlsx|png] [--out FILE]", runReport},
	}
}

func main() { os.Exit(process(time.Now)) }

// process runs crm as this process, on the clock now, and returns its exit code.
func process(now func() time.Time) int {
	procmem.LimitByDefault(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], os.Getenv, now, os.Stdin, os.Stdout, os.Stderr)
}

// run is main without the process: tests call it, with a clock of their own.
func run(ctx context.Context, args []string, getenv func(string) string, now func() time.Time, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "crm: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "crm: configuration:", err)
		return 2
	}
	cfg.Now = now
	e := &env{cfg: cfg, log: newLogger(cfg, stderr), stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if err := cmd.run(ctx, e, args[1:]); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "crm %s: %v\n", args[0], err)
			return 2
		}
		fmt.Fprintf(stderr, "crm %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "crm — a CRM for sales teams.\n\nUsage: crm <command> [options]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nConfiguration (environment, or a file named by CRM_CONFIG):")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(w, "  %-22s %-16s %s\n", s.name, def, s.help)
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/store/embedded"
	"github.com/crm-team/crm/store/storetest"
)

// asCRMEnv makes the test binary the crm binary (its arguments are crm's): tests
// run `crm serve` in a process of its own, to kill it. Its value is the tests' clock
// when the process started, so that it keeps the same time as they do.
const asCRMEnv = "CRM_TEST_AS_CRM"

// testDay is when the tests' clock starts: a Wednesday's working hour, whatever day
// the tests run. It moves on from there with the real one.
var testDay = time.Date(2026, 11, 18, 11, 0, 0, 0, time.FixedZone("MSK", 3*3600))

// testEpoch is when this process started its clock at testDay.
var testEpoch = time.Now()

// testNow is the clock of every crm command the tests run, in process or not.
func testNow() time.Time { return testDay.Add(time.Since(testEpoch)) }

func TestMain(m *testing.M) {
	if v := os.Getenv(asCRMEnv); v != "" {
		day, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			panic(asCRMEnv + ": " + err.Error())
		}
		testDay = day
		os.Exit(process(testNow))
	}
	storetest.Main(m)
}

// startServeProcess runs `crm serve` as a process with only vars for its settings and
// waits until it answers /readyz. Its log is shown if the test fails.
func startServeProcess(t *testing.T, vars map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), asCRMEnv + "=" + testNow().Format(time.RFC3339Nano)}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("crm serve's log:\n%s", log.String())
		}
	})
	waitReady(t, vars["CRM_HTTP_ADDR"])
	return cmd
}

func waitReady(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("serve never became ready")
}

type runResult struct {
	code           int
	stdout, stderr string
}

func runCRM(ctx context.Context, t *testing.T, vars map[string]string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, func(k string) string { return vars[k] }, testNow, strings.NewReader(""), &out, &errb)
	return runResult{code, out.String(), errb.String()}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeHealthShutdownAndSharedEngine(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	vars := map[string]string{"CRM_DATA_DIR": dir, "CRM_HTTP_ADDR": addr, "CRM_LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan runResult, 1)
	go func() { done <- runCRM(ctx, t, vars, "serve") }()

	ready := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = true
				break
			}
		}
	}
	if !ready {
		cancel()
		t.Fatalf("serve never became ready: %+v", <-done)
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	// The web workspace answers on the same listener.
	if resp, err := http.Get("http://" + addr + "/app/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/app/: %v", err)
	} else {
		resp.Body.Close()
	}

	// The engine is reached through a socket in the data directory only.
	if o, err := embedded.ReadOwner(dir); err != nil || o.Socket != filepath.Join(dir, "engine.sock") {
		t.Fatalf("engine.json: %+v %v, want the socket in %s", o, err, dir)
	}

	// A second engine on the same directory is refused with a clear message.
	second := runCRM(context.Background(), t, map[string]string{"CRM_DATA_DIR": dir, "CRM_HTTP_ADDR": freeAddr(t)}, "serve")
	if second.code == 0 || !strings.Contains(second.stderr, `"crm serve"`) || !strings.Contains(second.stderr, "in use") ||
		!strings.Contains(second.stderr, "CRM_DATA_DIR") {
		t.Fatalf("second serve: %+v", second)
	}

	// Other commands use the running engine.
	csv := filepath.Join(t.TempDir(), "c.csv")
	if err := os.WriteFile(csv, []byte("name;inn;contact_email\nООО Ромашка;7707083893;info@romashka.ru\nБез имени;123;x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := runCRM(context.Background(), t, vars, "import", csv)
	if imp.code != 0 || !strings.Contains(imp.stdout, "1 clients created") || !strings.Contains(imp.stderr, "c.csv:3:") {
		t.Fatalf("import while serving: %+v", imp)
	}
	exp := runCRM(context.Background(), t, vars, "export")
	if exp.code != 0 || !strings.HasPrefix(exp.stdout, "\uFEFF") || !strings.Contains(exp.stdout, "ООО Ромашка") {
		t.Fatalf("export while serving: %+v", exp)
	}
	doc := runCRM(context.Background(), t, vars, "doctor")
	if doc.code != 0 || !strings.Contains(doc.stdout, "all checks passed") {
		t.Fatalf("doctor: %+v", doc)
	}

	cancel()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("serve exited with %d: %s", r.code, r.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
	if _, err := os.Stat(filepath.Join(dir, "engine.json")); !os.IsNotExist(err) {
		t.Fatalf("engine.json left after a clean stop: %v", err)
	}
	// The data survived the restart.
	exp = runCRM(context.Background(), t, vars, "export")
	if !strings.Contains(exp.stdout, "ООО Ромашка") {
		t.Fatalf("after restart: %+v", exp)
	}
}

// crm serve in a process of its own on a data directory others could enter: it closes
// the directory, and commands of this process reach its engine through the socket
// (each process through its own handle on the directory).
func TestCommandsReachServeInAnotherProcessBySocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Shared")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	vars := map[string]string{"CRM_DATA_DIR": dir, "CRM_HTTP_ADDR": freeAddr(t), "CRM_LOG_LEVEL": "warn"}
	serve := startServeProcess(t, vars)

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory under crm serve: %v %v, want drwx------", fi.Mode(), err)
	}
	if o, err := embedded.ReadOwner(dir); err != nil || o.PID != serve.Process.Pid || o.Socket != filepath.Join(dir, "engine.sock") {
		t.Fatalf("engine.json: %+v %v, want pid %d and the socket in %s", o, err, serve.Process.Pid, dir)
	}
	if r := runCRM(context.Background(), t, vars, "manager", "add", "--name", "Ольга"); r.code != 0 {
		t.Fatalf("manager add while another process serves: %+v", r)
	}
	if r := runCRM(context.Background(), t, vars, "manager", "list"); r.code != 0 || !strings.Contains(r.stdout, "Ольга") {
		t.Fatalf("manager list while another process serves: %+v", r)
	}
}

func TestMigrateTwiceAndDoctorOnBadURI(t *testing.T) {
	vars := map[string]string{"CRM_DATA_DIR": t.TempDir()}
	for i := 0; i < 2; i++ {
		if r := runCRM(context.Background(), t, vars, "migrate"); r.code != 0 || !strings.Contains(r.stdout, "migrated") {
			t.Fatalf("migrate %d: %+v", i, r)
		}
	}
	bad := map[string]string{"CRM_MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"}
	r := runCRM(context.Background(), t, bad, "doctor")
	if r.code == 0 || !strings.Contains(r.stdout, "[FAIL] database") || strings.Count(r.stdout, "CRM_MONGODB_URI") != 1 {
		t.Fatalf("doctor on an unreachable server: %+v", r)
	}
	// The store says what failed, crm which setting to check.
	if r := runCRM(context.Background(), t, bad, "migrate"); r.code == 0 || !strings.Contains(r.stderr, "does not answer") ||
		strings.Count(r.stderr, "check CRM_MONGODB_URI") != 1 {
		t.Fatalf("migrate on an unreachable server: %+v", r)
	}
}

func TestConfigFileAndBadSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "crm.env")
	if err := os.WriteFile(file, []byte("# comment\nCRM_HTTP_ADDR=127.0.0.1:9999\nexport CRM_PHONE_REGION=\"kz\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"CRM_CONFIG": file, "CRM_PHONE_REGION": "by"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9999" || cfg.PhoneRegion != "BY" || cfg.Database != "crm" || cfg.DataDir != "./data" ||
		cfg.BotFileLimit != 10<<20 || cfg.TelegramAPIURL != "https://api.telegram.org" {
		t.Fatalf("config: %+v", cfg)
	}
	for _, bad := range []map[string]string{{"CRM_LOG_LEVEL": "loud"}, {"CRM_PHONE_REGION": "Russia"},
		{"CRM_TELEGRAM_WEBHOOK_URL": "http://crm.example/tg", "CRM_TELEGRAM_WEBHOOK_SECRET": "0123456789abcdef"},
		{"CRM_TELEGRAM_WEBHOOK_URL": "https://crm.example/tg", "CRM_TELEGRAM_WEBHOOK_SECRET": "short"},
		{"CRM_BOT_FILE_LIMIT_MB": "20"}, {"CRM_BOT_FILE_LIMIT_MB": "ten"}, {"CRM_BOT_FILE_LIMIT_MB": "0"},
		{"CRM_MAIL_ATTACHMENT_LIMIT_MB": "16"}, {"CRM_MAIL_ATTACHMENT_LIMIT_MB": "1.5"},
		{"CRM_SMTP_HOST": "smtp.example", "CRM_SMTP_SECURITY": "ssl", "CRM_SMTP_FROM": "a@b.ru"},
		{"CRM_SMTP_HOST": "smtp.example", "CRM_SMTP_FROM": "not an address"},
		{"CRM_SMTP_HOST": "smtp.example", "CRM_SMTP_FROM": "a@b.ru", "CRM_SMTP_CONNS": "0"},
		{"CRM_GREETING_HOUR": "25"}, {"CRM_CAMPAIGN_TAKEOVER": "1s"}, {"CRM_CAMPAIGN_TAKEOVER": "half a minute"},
		{"CRM_AT_RISK_DAYS": "3"}, {"CRM_AT_RISK_DAYS": "a quarter"},
		{"CRM_UNSUBSCRIBE_SECRET": "0123456789abcdef-x"}, {"CRM_PUBLIC_URL": "https://crm.example", "CRM_UNSUBSCRIBE_SECRET": "short"}} {
		if _, err := loadConfig(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	r := runCRM(context.Background(), t, nil, "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("unknown command: %+v", r)
	}
}

// startServe runs crm serve until the test ends (when it must have exited cleanly) and
// waits until it answers /readyz.
func startServe(t *testing.T, vars map[string]string) {
	t.Helper()
	serveInBackground(t, vars)
	waitReady(t, vars["CRM_HTTP_ADDR"])
}

// serveInBackground runs crm serve until the test ends, when it must have exited
// cleanly; the function returned gives its log so far.
func serveInBackground(t *testing.T, vars map[string]string) (log func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, testNow, strings.NewReader(""), &out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, errb.String())
		}
	})
	return errb.String
}

// lockedBuffer is a buffer a running serve writes its log to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

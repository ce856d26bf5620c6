// Package embedded runs the in-process database engine (FerretDB on SQLite) that the
// binary uses when no MongoDB address is configured, and shares it with other
// commands started on the same data directory.
package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Files inside the data directory.
const (
	lockFile   = "crm.lock"    // flock'ed by the process that owns the engine
	ownerFile  = "engine.json" // who owns the engine and its socket
	socketFile = "engine.sock" // the engine's only listener (the driver wants "sock" at the end)
	sqliteDir  = "db"          // FerretDB keeps one SQLite file per database here
)

// Owner says who runs the engine on a data directory; it is written to engine.json so
// that other commands can find the engine and error messages can name the process.
type Owner struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	// Socket is the engine's Unix socket, inside the data directory. Empty in the
	// engine.json of an older crm, which listened on a loopback TCP port.
	Socket  string    `json:"socket,omitempty"`
	Started time.Time `json:"started"`
}

// Engine is either an engine this process runs (owner) or one run by another process
// on the same data directory, which this process only connects to.
type Engine struct {
	dataDir string
	dir     *os.File // the data directory, held open: the socket is reached through it
	uri     string
	owner   bool
	log     *slog.Logger

	lock   *os.File
	stop   context.CancelFunc
	done   chan struct{}
	fixer  *idIndexFixer
	fixerC chan struct{}
}

// Options control how an engine is started or attached.
type Options struct {
	// Command names this process in engine.json ("crm serve", "crm import").
	Command string
	// Attach lets the call use an engine that another process already runs on the
	// directory. crm serve does not attach: it must own the engine it serves.
	Attach bool
	// Logger receives the engine's own messages; FerretDB is very verbose, so only
	// errors are passed through.
	Logger *slog.Logger
}

// ErrInUse is returned when another process owns the data directory and the caller
// may not attach to it.
var ErrInUse = errors.New("data directory is in use")

// Start opens the data directory: it starts the engine when no other process runs one
// there, or attaches to the running one when opts.Attach is set.
func Start(ctx context.Context, dataDir string, opts Options) (*Engine, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("data directory %q: %w", dataDir, err)
	}
	tightened, err := privateDir(abs)
	if err != nil {
		return nil, err
	}
	if tightened {
		log.Warn("the data directory was open to other users; it is now this user's only (mode 0700)", "dir", abs)
	}
	if err := os.MkdirAll(filepath.Join(abs, sqliteDir), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create data directory %s: %w", abs, err)
	}
	dir, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot open data directory %s: %w", abs, err)
	}
	e := &Engine{dataDir: abs, dir: dir, log: log}

	lock, err := os.OpenFile(filepath.Join(abs, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		e.closeDir()
		return nil, fmt.Errorf("cannot open lock file in %s: %w", abs, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			e.closeDir()
			return nil, fmt.Errorf("cannot lock data directory %s: %w", abs, err)
		}
		if err := e.attach(ctx, opts); err != nil {
			e.closeDir()
			return nil, err
		}
		return e, nil
	}

	e.owner, e.lock = true, lock
	if err := e.run(ctx, opts.Command); err != nil {
		e.unlock()
		e.closeDir()
		return nil, err
	}
	return e, nil
}

func (e *Engine) run(ctx context.Context, command string) error {
	if err := privateFiles(e.dataDir); err != nil {
		return fmt.Errorf("%w; run `chmod -R go= %s` as its owner", err, e.dataDir)
	}
	// The lock is ours, so a socket file there is one a crashed owner left.
	sock := filepath.Join(e.dataDir, socketFile)
	if err := os.Remove(sock); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove the old socket %s: %w", sock, err)
	}
	addr, err := socketAddr(e.dir)
	if err != nil {
		return err
	}
	// Only the Unix listener: FerretDB opens no TCP one unless given its address.
	listener := ferretdb.ListenerConfig{Unix: addr}

	q := url.Values{}
	q.Add("_pragma", "synchronous(normal)") // WAL + normal: half the write cost, safe on a process crash
	// FerretDB keeps every connection it opened (17 during a busy hour) and SQLite gives
	// each its own page cache, 2 MB by default, outside Go's heap and its limit; 512 KB
	// each holds the pages in use, and the system's file cache holds the rest.
	q.Add("_pragma", "cache_size(-512)")
	fdb, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    slog.New(quietHandler{h: e.log.Handler()}),
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.Join(e.dataDir, sqliteDir) + "/?" + q.Encode(),
	})
	if err != nil {
		return fmt.Errorf("cannot start the embedded database in %s: %w", e.dataDir, err)
	}

	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.stop = stop
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		_ = fdb.Run(runCtx)
	}()

	// FerretDB listens from New on; the directory keeps others out, and the socket
	// itself answers to nobody else either.
	if err := os.Chmod(addr, 0o600); err != nil {
		e.Close()
		return fmt.Errorf("cannot close the socket %s to other users: %w", sock, err)
	}
	e.uri = socketURI(addr)
	if err := waitListening(ctx, addr); err != nil {
		e.Close()
		return err
	}

	e.fixer = newIDIndexFixer(filepath.Join(e.dataDir, sqliteDir), e.log)
	if err := e.fixer.FixAll(ctx); err != nil {
		e.Close()
		return err
	}
	e.fixerC = make(chan struct{})
	go e.fixLoop(runCtx)

	owner := Owner{PID: os.Getpid(), Command: command, Socket: sock, Started: time.Now().UTC()}
	b, _ := json.Marshal(owner)
	if err := writeFileAtomic(filepath.Join(e.dataDir, ownerFile), b); err != nil {
		e.Close()
		return fmt.Errorf("cannot write %s: %w", ownerFile, err)
	}
	return nil
}

// fixLoop re-applies the _id index fix now and then, so a collection created by a
// process attached to this engine gets it too without that process touching SQLite.
func (e *Engine) fixLoop(ctx context.Context) {
	defer close(e.fixerC)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.fixer.FixAll(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("embedded engine: cannot index _id", "err", err)
			}
			if err := privateFiles(e.dataDir); err != nil {
				e.log.Warn("embedded engine: files open to other users", "err", err)
			}
		}
	}
}

// attach makes e use the engine another process runs on the directory, through its
// socket, once engine.json says the owner serves one.
func (e *Engine) attach(ctx context.Context, opts Options) error {
	dir := e.dataDir
	// The owner may still be starting: give it a few seconds to write engine.json.
	deadline := time.Now().Add(10 * time.Second)
	for {
		owner, err := ReadOwner(dir)
		if err == nil {
			since := owner.Started.Local().Format("2006-01-02 15:04")
			if !opts.Attach {
				return fmt.Errorf("%w: %s is used by %q (pid %d, since %s); stop it first, or use another data directory",
					ErrInUse, dir, owner.Command, owner.PID, since)
			}
			if owner.Socket == "" {
				return fmt.Errorf("%w: %s is used by %q (pid %d, since %s), an older crm that serves the database on TCP to every local user; restart it with this version",
					ErrInUse, dir, owner.Command, owner.PID, since)
			}
			addr, err := socketAddr(e.dir)
			if err != nil {
				return err
			}
			e.uri = socketURI(addr)
			e.log.Debug("using the database engine of a running process", "owner", owner.Command, "pid", owner.PID)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s is locked by another process that has not started its database; if no crm process runs, remove %s",
				ErrInUse, dir, filepath.Join(dir, lockFile))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ReadOwner reads who runs the engine on dir.
func ReadOwner(dir string) (Owner, error) {
	var o Owner
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, err
	}
	if o.PID == 0 {
		return o, errors.New("engine.json names no process")
	}
	return o, nil
}

// URI is the MongoDB connection string of the engine for this process, valid until
// Close: it reaches the socket through the data directory this process holds open.
func (e *Engine) URI() string { return e.uri }

// Socket is the path of the engine's Unix socket.
func (e *Engine) Socket() string { return filepath.Join(e.dataDir, socketFile) }

// Owned reports whether this process runs the engine.
func (e *Engine) Owned() bool { return e.owner }

// DataDir is the absolute data directory.
func (e *Engine) DataDir() string { return e.dataDir }

// FixIndexes makes _id look-ups use an index in every collection that exists now, and
// closes new databases' files to other users. The store calls it after it creates
// collections. A process attached to another's engine leaves it to the owner, whose
// loop picks new collections up within seconds.
func (e *Engine) FixIndexes(ctx context.Context) error {
	if !e.owner || e.fixer == nil {
		return nil
	}
	if err := e.fixer.FixAll(ctx); err != nil {
		return err
	}
	return privateFiles(e.dataDir)
}

// Close stops an owned engine and releases the data directory.
func (e *Engine) Close() {
	defer e.closeDir()
	if !e.owner {
		return
	}
	if e.stop != nil {
		e.stop()
		<-e.done
		if e.fixerC != nil {
			<-e.fixerC
		}
	}
	if e.fixer != nil {
		e.fixer.Close()
	}
	_ = os.Remove(filepath.Join(e.dataDir, ownerFile))
	e.unlock()
}

func (e *Engine) closeDir() {
	if e.dir != nil {
		_ = e.dir.Close()
		e.dir = nil
	}
}

func (e *Engine) unlock() {
	if e.lock != nil {
		_ = syscall.Flock(int(e.lock.Fd()), syscall.LOCK_UN)
		_ = e.lock.Close()
		e.lock = nil
	}
}

func waitListening(ctx context.Context, socket string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("unix", socket)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the embedded database did not start listening: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp) // WriteFile keeps the mode of a file left by a crash
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

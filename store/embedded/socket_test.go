package embedded

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// ownTCPListeners lists the inodes of the TCP sockets this process listens on: its
// open sockets (/proc/self/fd) that the kernel's tables show in the LISTEN state.
func ownTCPListeners(t *testing.T) map[string]bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc to inspect listeners: %v", err)
	}
	own := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			own[strings.TrimSuffix(inode, "]")] = true
		}
	}
	listening := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) > 9 && fields[3] == "0A" && own[fields[9]] {
				listening[fields[9]+" "+fields[1]] = true
			}
		}
		_ = f.Close()
	}
	return listening
}

func TestEngineServesOnlyItsUnixSocket(t *testing.T) {
	ctx := context.Background()
	// Capitals (the driver lower-cases socket paths) and longer than the 107 bytes a
	// socket's path may have: both are what an admin's CRM_DATA_DIR may look like.
	dir := filepath.Join(t.TempDir(), strings.Repeat("Company-CRM-Data.", 7))
	before := ownTCPListeners(t)
	e := startEngine(t, dir)
	for l := range ownTCPListeners(t) {
		if !before[l] {
			t.Errorf("the engine listens on TCP (inode, local address in hex): %s", l)
		}
	}

	raw, err := os.ReadFile(filepath.Join(dir, "engine.json"))
	if err != nil {
		t.Fatal(err)
	}
	var owner map[string]any
	if err := json.Unmarshal(raw, &owner); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "engine.sock")
	if owner["socket"] != sock || owner["uri"] != nil || strings.Contains(string(raw), "127.0.0.1") {
		t.Errorf("engine.json = %s, want the socket %s and no TCP address", raw, sock)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket %s: %v %v", sock, fi, err)
	}

	c := connect(t, e.URI())
	if _, err := c.Database("crm").Collection("x").InsertOne(ctx, bson.M{"_id": "k"}); err != nil {
		t.Fatalf("through the socket (%s): %v", e.URI(), err)
	}
}

func TestSocketLeftByACrashIsReplaced(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "engine.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false) // as after kill -9: the file stays, nobody answers
	_ = l.Close()

	e := startEngine(t, dir)
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("the engine does not answer on %s: %v", sock, err)
	}
	_ = conn.Close()
	if err := connect(t, e.URI()).Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestAttachRefusesAnOwnerOnTCP(t *testing.T) {
	dir := t.TempDir()
	lock, err := os.OpenFile(filepath.Join(dir, "crm.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	// engine.json as a crm serve of an older version writes it.
	old := `{"pid":4242,"command":"crm serve","uri":"mongodb://127.0.0.1:45678/","started":"2026-01-01T10:00:00Z"}`
	if err := os.WriteFile(filepath.Join(dir, "engine.json"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), dir, Options{Command: "crm import", Attach: true})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "4242") || !strings.Contains(err.Error(), "TCP") {
		t.Fatalf("attach to an older owner on TCP: err = %v, want a refusal naming it", err)
	}
}

func TestPlainSocketPathLimits(t *testing.T) {
	if p, err := plainSocketPath("/var/lib/crm"); err != nil || p != "/var/lib/crm/engine.sock" {
		t.Errorf("plain path: %q %v", p, err)
	}
	long := "/var/lib/" + strings.Repeat("crm-data-", 12)
	// The fix is said in the package's words; crm names its setting (cmd/crm).
	if _, err := plainSocketPath(long); err == nil || !strings.Contains(err.Error(), "shorter") || !strings.Contains(err.Error(), "bytes") ||
		strings.Contains(err.Error(), "CRM_") {
		t.Errorf("long path: err = %v, want the limit and the fix", err)
	}
	if _, err := plainSocketPath("/srv/CRM"); err == nil || !strings.Contains(err.Error(), "lower case") || strings.Contains(err.Error(), "CRM_") {
		t.Errorf("capitals: err = %v, want the fix", err)
	}
}

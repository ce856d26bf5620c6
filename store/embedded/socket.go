package embedded

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The engine listens on a Unix socket in its data directory and nowhere else: it has
// no passwords, and a TCP port, even on loopback, is open to every local user.

// maxSocketPath is the longest path a Unix socket's address holds here (107 bytes on
// Linux, 103 on macOS and the BSDs).
const maxSocketPath = len(syscall.RawSockaddrUnix{}.Path) - 1

// socketAddr is the path by which this process binds or dials the engine's socket,
// given the data directory held open. Linux reaches the socket through that open
// directory, /proc/self/fd/<n>/engine.sock: a short path whatever CRM_DATA_DIR is
// (a socket's path is limited to maxSocketPath bytes) and in lower case (the Go driver
// lower-cases a socket's path as it does host names, so it would dial
// /srv/crm/data/engine.sock for /srv/CRM/data/engine.sock). Elsewhere it is the path
// itself, if that can work.
func socketAddr(dir *os.File) (string, error) {
	viaDir := fmt.Sprintf("/proc/self/fd/%d", dir.Fd())
	if fi, err := os.Stat(viaDir); err == nil && fi.IsDir() {
		return viaDir + "/" + socketFile, nil
	}
	return plainSocketPath(dir.Name())
}

// plainSocketPath is the socket's own path, refused with the fix when the system or
// the driver cannot use it.
func plainSocketPath(dataDir string) (string, error) {
	p := filepath.Join(dataDir, socketFile)
	if len(p) > maxSocketPath {
		return "", fmt.Errorf("the embedded database's socket %s is %d bytes long, over the %d bytes a Unix socket's path may have: use a data directory with a shorter path",
			p, len(p), maxSocketPath)
	}
	if strings.ToLower(p) != p {
		return "", fmt.Errorf("the embedded database's socket %s has capital letters, which the MongoDB driver lower-cases: use a data directory whose path is in lower case", p)
	}
	return p, nil
}

// socketURI is the MongoDB connection string of a socket: the driver takes a host
// ending in "sock" for a socket's path, percent-encoded.
func socketURI(path string) string {
	return "mongodb://" + url.QueryEscape(path) + "/"
}

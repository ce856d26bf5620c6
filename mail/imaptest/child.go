package imaptest

import (
	"fmt"
	"io"
	"os"

	"github.com/crm-team/crm/internal/selfexec"
)

// childEnv asks a test binary to serve generated letters instead of running tests.
const childEnv = "CRM_IMAPTEST_CHILD"

// ServeChildIfAsked is for TestMain: in a process started by StartChild it serves the
// generated letters until its standard input closes, then exits; otherwise it
// returns at once.
func ServeChildIfAsked() {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	var n int
	var seed uint64
	if _, err := fmt.Sscanf(spec, "%d,%d", &n, &seed); err != nil {
		fmt.Fprintln(os.Stderr, "imaptest child:", err)
		os.Exit(2)
	}
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imaptest child:", err)
		os.Exit(2)
	}
	s.AddLetters("INBOX", GenerateLetters(n, seed))
	fmt.Println(s.addr.String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	s.Close()
	os.Exit(0)
}

// Child is a server in another process: benchmarks measure their own memory without
// the server's copy of the mailbox.
type Child struct{ p *selfexec.Process }

// StartChild runs this test binary again as a server holding GenerateLetters(n, seed)
// in INBOX. The binary's TestMain must call ServeChildIfAsked first.
func StartChild(n int, seed uint64) (*Child, error) {
	p, err := selfexec.Start(fmt.Sprintf("%s=%d,%d", childEnv, n, seed))
	if err != nil {
		return nil, fmt.Errorf("imaptest: %w", err)
	}
	return &Child{p: p}, nil
}

// Host is the server's address.
func (c *Child) Host() string { return c.p.Host }

// Port is the server's port.
func (c *Child) Port() int { return c.p.Port }

// Close stops the server process.
func (c *Child) Close() { c.p.Close() }

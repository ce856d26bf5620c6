package smtptest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crm-team/crm/internal/selfexec"
)

// childEnv asks a test binary to be an SMTP server instead of running tests.
const childEnv = "CRM_SMTPTEST_CHILD"

// ServeChildIfAsked is for TestMain: in a process started by StartChild it runs a
// server that accepts everything and counts it, answering each line on its standard
// input with the count, until that input closes; then it exits. Otherwise it returns
// at once.
func ServeChildIfAsked() {
	if os.Getenv(childEnv) == "" {
		return
	}
	s := newServer(10 * time.Second)
	s.Discard = true
	if err := s.listen("127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, "smtptest child:", err)
		os.Exit(2)
	}
	fmt.Println(s.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println(s.Count())
	}
	s.Stop()
	os.Exit(0)
}

// Child is a server in another process, as a real mail server is: a benchmark's CPU
// time and memory are then its own, and its goroutines do not queue behind the
// server's.
type Child struct {
	p  *selfexec.Process
	mu sync.Mutex
}

// StartChild runs this test binary again as a server that accepts every message.
// The binary's TestMain must call ServeChildIfAsked first.
func StartChild() (*Child, error) {
	p, err := selfexec.Start(childEnv + "=1")
	if err != nil {
		return nil, fmt.Errorf("smtptest: %w", err)
	}
	return &Child{p: p}, nil
}

// Port is the server's port on 127.0.0.1.
func (c *Child) Port() int { return c.p.Port }

// Count asks the server how many messages it has accepted.
func (c *Child) Count() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.p.In, "?\n"); err != nil {
		return 0, err
	}
	line, err := c.p.Out.ReadString('\n')
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(line))
}

// Close stops the server process.
func (c *Child) Close() { c.p.Close() }

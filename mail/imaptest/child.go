package imaptest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
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
type Child struct {
	host string
	port int
	cmd  *exec.Cmd
	in   io.WriteCloser
}

// StartChild runs this test binary again as a server holding GenerateLetters(n, seed)
// in INBOX. The binary's TestMain must call ServeChildIfAsked first.
func StartChild(n int, seed uint64) (*Child, error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", childEnv, n, seed))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("imaptest: start the server process: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("imaptest: the server process said nothing: %w", err)
	}
	host, port, err := net.SplitHostPort(line[:len(line)-1])
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("imaptest: the server process said %q", line)
	}
	p, _ := strconv.Atoi(port)
	return &Child{host: host, port: p, cmd: cmd, in: in}, nil
}

// Host is the server's address.
func (c *Child) Host() string { return c.host }

// Port is the server's port.
func (c *Child) Port() int { return c.port }

// Close stops the server process.
func (c *Child) Close() {
	_ = c.in.Close()
	_ = c.cmd.Wait()
}

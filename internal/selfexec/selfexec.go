// Package selfexec runs the current test binary again as a helper process (a test
// server in a process of its own), which says its address on its first line.
package selfexec

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Process is the helper: In is its standard input (closing it asks it to stop), Out
// its standard output after the address line.
type Process struct {
	Host string
	Port int
	In   io.WriteCloser
	Out  *bufio.Reader
	cmd  *exec.Cmd
}

// Start runs os.Args[0] with env ("NAME=value") added and reads the host:port it
// prints first.
func Start(env string) (*Process, error) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), env)
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
		return nil, fmt.Errorf("start the helper process: %w", err)
	}
	p := &Process{In: in, Out: bufio.NewReader(out), cmd: cmd}
	line, err := p.Out.ReadString('\n')
	if err == nil {
		var port string
		if p.Host, port, err = net.SplitHostPort(strings.TrimSpace(line)); err == nil {
			p.Port, err = strconv.Atoi(port)
		}
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the helper process said %q: %w", line, err)
	}
	return p, nil
}

// Close closes the helper's input and waits for it to end.
func (p *Process) Close() {
	_ = p.In.Close()
	_ = p.cmd.Wait()
}

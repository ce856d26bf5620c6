// Package deploy_test checks the files that install crm: the systemd unit and the
// container image. They need systemd-analyze and podman (with runc): .ci/run installs
// them; CRM_SKIP_DEPLOY=1 skips these tests on a machine without them.
package deploy_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const skipEnv = "CRM_SKIP_DEPLOY"

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv(skipEnv) == "1" {
		t.Skip("no " + tool + ", and " + skipEnv + "=1")
	}
	t.Fatalf("this test needs %s (.ci/run installs it), or set %s=1 to skip it locally", tool, skipEnv)
	return ""
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The unit passes systemd's own check, with the binary where it says.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := need(t, "systemd-analyze")
	dir := t.TempDir()
	bin := filepath.Join(dir, "crm")
	run(t, "..", "go", "build", "-o", bin, "./cmd/crm")
	unit, err := os.ReadFile("crm.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=crm", "Restart=on-failure", "ProtectSystem=strict", "NoNewPrivileges=yes"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	local := strings.ReplaceAll(string(unit), "/usr/local/bin/crm", bin)
	path := filepath.Join(dir, "crm.service")
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", path)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "crm.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// deploy/build-image makes an image that runs crm serve as a non-root user and
// answers /healthz, also through its own health check.
func TestImageAnswersHealthz(t *testing.T) {
	podman := need(t, "podman")
	need(t, "runc")
	tag := fmt.Sprintf("localhost/crm-test:%d", os.Getpid())
	run(t, ".", "./build-image", tag)
	t.Cleanup(func() { _ = exec.Command(podman, "rmi", "-f", tag).Run() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	name := fmt.Sprintf("crm-test-%d", os.Getpid())
	run(t, ".", podman, "run", "-d", "--name", name, "--runtime", "runc", "--network", "host",
		"--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768", "-e", "CRM_HTTP_ADDR="+addr, tag)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command(podman, "logs", name).CombinedOutput()
			t.Logf("the container's log:\n%s", out)
		}
		_ = exec.Command(podman, "rm", "-f", name).Run()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the container never answered /healthz on %s: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	run(t, ".", podman, "healthcheck", "run", name)
	if user := strings.TrimSpace(run(t, ".", podman, "exec", name, "/crm", "version")); !strings.HasPrefix(user, "crm ") {
		t.Fatalf("crm version in the image: %q", user)
	}
	if u := strings.TrimSpace(run(t, ".", podman, "inspect", "--format", "{{.Config.User}}", name)); u != "65534:65534" {
		t.Fatalf("the image runs as %q, not the non-root 65534", u)
	}
}

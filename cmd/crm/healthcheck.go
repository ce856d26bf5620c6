package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// runHealthcheck is `crm healthcheck`: whether crm serve answers /healthz on
// CRM_HTTP_ADDR, for a container's health check (an image FROM scratch has no curl).
func runHealthcheck(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("healthcheck takes no arguments")}
	}
	host, port, err := net.SplitHostPort(e.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("CRM_HTTP_ADDR=%q: %w", e.cfg.HTTPAddr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // listening everywhere: ask here
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("crm serve does not answer on %s: %w", e.cfg.HTTPAddr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("crm serve answers /healthz with %s", resp.Status)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/internal/procmem"
	"github.com/crm-team/crm/store/csvio"
)

// BenchmarkImportOrders times crm import orders end to end (the command as a user runs
// it, the embedded engine in the same process) of a workbook of CRM_BENCH_ORDERS
// orders (default 100,000) of CRM_BENCH_CLIENTS clients (default 10,000) found by
// INN, as 1C exports them: half paid, a quarter part-paid, the rest invoiced, over a
// year. The first run creates them; later runs import the same file again (nothing
// changes). It reports the seconds and the peak resident memory of the process (the
// engine included) during the import. The base is made by crm import of a client CSV.
//
//	CRM_BENCH_ORDERS=100000 go test -run '^$' -bench ImportOrders -benchtime 2x -timeout 30m ./cmd/crm/
func BenchmarkImportOrders(b *testing.B) {
	procmem.LimitByDefault(os.Getenv) // as crm does
	n := benchEnv("CRM_BENCH_ORDERS", 100_000)
	nc := benchEnv("CRM_BENCH_CLIENTS", 10_000)
	dir := b.TempDir()
	ctx := context.Background()
	vars := map[string]string{"CRM_DATA_DIR": filepath.Join(dir, "data"), "CRM_LOG_LEVEL": "error"}
	clients, orders := filepath.Join(dir, "clients.csv"), filepath.Join(dir, "orders.xlsx")
	if err := writeINNClients(clients, nc); err != nil {
		b.Fatal(err)
	}
	if err := writeOrderBook(orders, n, nc); err != nil {
		b.Fatal(err)
	}
	if r := runBench(ctx, vars, "import", clients); r.code != 0 {
		b.Fatalf("clients: %+v", r)
	}
	b.ResetTimer()
	for i := range b.N {
		procmem.Settle()
		t0 := time.Now()
		r := runBench(ctx, vars, "import", "orders", orders)
		took := time.Since(t0)
		if r.code != 0 {
			b.Fatalf("orders: %+v", r)
		}
		b.ReportMetric(took.Seconds(), "s")
		b.ReportMetric(procmem.PeakMB(), "peak-RSS-MB")
		b.Logf("run %d: %s in %v, peak RSS %.0f MB", i+1, strings.TrimSpace(r.stdout), took.Round(time.Millisecond), procmem.PeakMB())
	}
}

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func runBench(ctx context.Context, vars map[string]string, args ...string) runResult {
	var out, errb strings.Builder
	code := run(ctx, args, func(k string) string { return vars[k] }, testNow, strings.NewReader(""), &out, &errb)
	return runResult{code, out.String(), errb.String()}
}

// benchINN is a valid 10-digit INN made of a serial number.
func benchINN(n int) string {
	d := fmt.Sprintf("%09d", 100_000_000+n)
	w := []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	sum := 0
	for i, c := range d {
		sum += w[i] * int(c-'0')
	}
	return d + strconv.Itoa(sum%11%10)
}

func writeINNClients(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString("name;inn;city\r\n")
	for i := range n {
		fmt.Fprintf(w, "ООО «Покупатель %d»;%s;Москва\r\n", i, benchINN(i))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeOrderBook(path string, n, clients int) error {
	xw, err := csvio.NewXLSXWriter("Заказы")
	if err != nil {
		return err
	}
	defer xw.Close()
	if err := xw.Write([]string{"Дата", "Номер", "Контрагент", "ИНН", "Сумма", "Валюта", "Оплачено", "Срок оплаты", "Комментарий", "Организация"}); err != nil {
		return err
	}
	start := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		c := i % clients
		date := start.Add(time.Duration(i) * 5 * time.Minute * time.Duration(365*288/max(n, 1)+1) / 2)
		amount := int64(1000+i%9000) * 100
		paid := ""
		switch i % 4 {
		case 0, 1:
			paid = csvAmount(amount)
		case 2:
			paid = csvAmount(amount / 2)
		}
		if err := xw.Write([]string{date.Format("02.01.2006 15:04:05"), fmt.Sprintf("ТД00-%06d", i), fmt.Sprintf("ООО «Покупатель %d»", c),
			benchINN(c), csvAmount(amount), "руб.", paid, date.AddDate(0, 0, 10).Format("02.01.2006"), "Товары по счёту", "ООО «Наша фирма»"}); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := xw.Finish(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func csvAmount(minor int64) string { return fmt.Sprintf("%d,%02d", minor/100, minor%100) }

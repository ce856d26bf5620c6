package csvio_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/crm-team/crm/internal/procmem"
	"github.com/crm-team/crm/store/csvio"
	"github.com/crm-team/crm/store/storetest"
)

// BenchmarkImport imports a generated file of 10k rows (and of 100k rows when
// CRM_BENCH_LARGE=1) into a fresh store on the embedded engine. It reports rows a
// second and the process's peak resident memory during the import (the engine runs in
// the same process, so its memory is included).
//
//	go test -run XXX -bench Import -benchtime 1x ./store/csvio/
//	CRM_BENCH_LARGE=1 go test -run XXX -bench Import -benchtime 1x -timeout 30m ./store/csvio/
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			if n > 10_000 && os.Getenv("CRM_BENCH_LARGE") != "1" {
				b.Skip("set CRM_BENCH_LARGE=1 to import 100k rows")
			}
			path := filepath.Join(b.TempDir(), "clients.csv")
			if err := writeSynthetic(path, n); err != nil {
				b.Fatal(err)
			}
			procmem.ResetPeak()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := storetest.New(b)
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				rep, err := csvio.Import(context.Background(), s, "bench", f, csvio.ImportOptions{})
				b.StopTimer()
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				if rep.Created != n || rep.Failed != 0 {
					b.Fatalf("import: %s", rep)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(procmem.PeakMB(), "peakRSS-MB")
		})
	}
}

// writeSynthetic streams n rows to path: unique valid INNs, e-mails and phones, so
// every row is created. Nothing but the current row is held in memory.
func writeSynthetic(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	w.WriteString("\uFEFFname;kind;inn;city;industry;stage;tags;contact_name;contact_position;contact_phone;contact_email;contact_birthday;consent;notes;custom:Марка авто\r\n")
	cities := []string{"Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск", "Краснодар"}
	stages := []string{"white", "grey", "green", "yellow", "green_gold", "gold", "platinum"}
	cars := []string{"Toyota Camry", "Lada Vesta", "Kia Rio", ""}
	var row []byte
	for i := 0; i < n; i++ {
		row = row[:0]
		row = fmt.Appendf(row, `"ООО ""Компания %d""";company;%s;%s;Оптовая торговля;%s;опт, синтетика;Контакт %d;Директор;+7 916 %03d-%02d-%02d;contact%d@firm%d.ru;%02d.%02d.19%02d;%s;"Заметка о клиенте %d";%s`+"\r\n",
			i, synthINN(i), cities[i%len(cities)], stages[i%len(stages)], i,
			i/10000, i/100%100, i%100, i, i, 1+i%28, 1+i%12, 50+i%50, []string{"да", "нет"}[i%2], i, cars[i%len(cars)])
		if _, err := w.Write(row); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// synthINN makes the i-th organisation INN: "77", seven digits of i, the control digit.
func synthINN(i int) string {
	d := []byte("77" + fmt.Sprintf("%07d", i))
	sum := 0
	for k, w := range []int{2, 4, 10, 3, 5, 9, 4, 6, 8} {
		sum += w * int(d[k]-'0')
	}
	return string(d) + strconv.Itoa(sum%11%10)
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
	"github.com/crm-team/crm/web"
)

var benchCities = []string{"Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург", "Тверь", "Самара", "Омск",
	"Уфа", "Пермь", "Воронеж", "Волгоград", "Краснодар", "Саратов", "Тюмень", "Тула", "Рязань", "Томск", "Киров", "Сочи"}

// BenchmarkClientsPage measures the clients page of a head (who sees every client) at
// 100,000 clients, filtered: server time from the request to the last byte of the
// page (p50, p95, p99 over 1,000 requests), and the page's weight with its stylesheet
// and script. Seeding takes a few minutes:
//
//	go test ./web -run '^$' -bench ClientsPage -benchtime 1x
func BenchmarkClientsPage(b *testing.B) {
	br, team := benchSite(b)
	filters := []string{
		"stage=green",                          // a tenth of the base, by name
		"city=Казань&sort=stage",               // a twentieth, by stage
		"manager=" + team[3].ID + "&sort=city", // a twentieth
		"q=Клиент+4&stage=gold",                // a search among all, filtered
		"stage=white&city=Москва&sort=newest",  // a small set
	}
	at := percentileMS
	var weight int
	for b.Loop() {
		times := make([]time.Duration, 0, 1000)
		each := make([][]time.Duration, len(filters))
		for i := range 1000 {
			f := i % len(filters)
			start := time.Now()
			a := br.get("/app/clients?" + filters[f])
			took := time.Since(start)
			times, each[f] = append(times, took), append(each[f], took)
			if a.code != http.StatusOK {
				b.Fatalf("%s: %d", filters[f], a.code)
			}
			if i == 0 {
				weight = len(a.body)
			}
		}
		b.ReportMetric(at(times, 0.50), "p50-ms")
		b.ReportMetric(at(times, 0.95), "p95-ms")
		b.ReportMetric(at(times, 0.99), "p99-ms")
		for f, ts := range each {
			b.Logf("%-45s p50 %6.1f ms, p95 %6.1f ms", filters[f], at(ts, 0.5), at(ts, 0.95))
		}
	}
	for _, f := range []string{"/app/static/app.css", "/app/static/app.js"} {
		weight += len(br.get(f).body)
	}
	b.ReportMetric(float64(weight)/1024, "page-KB")
}

// benchSite is a workspace over 100,000 clients (20 managers, 20 cities, 7 stages),
// the directory loaded, and a head signed in to it.
func benchSite(b *testing.B) (*browser, []*store.Manager) {
	const n = 100_000
	ctx := context.Background()
	st := storetest.New(b)
	head := storetest.Manager(b, st, store.Manager{Name: "Helen", Role: store.RoleHead, Active: true, Language: "ru"})
	var team []*store.Manager
	for i := range 20 {
		team = append(team, storetest.Manager(b, st, store.Manager{Name: fmt.Sprintf("Менеджер %d", i+1), Active: true}))
	}
	for off := 0; off < n; off += 1000 {
		cs := make([]*store.Client, 0, 1000)
		for i := off; i < off+1000; i++ {
			cs = append(cs, &store.Client{Name: fmt.Sprintf("ООО «Клиент %d»", i), ManagerID: team[i%len(team)].ID,
				City: benchCities[(i/3)%len(benchCities)], Industry: "Торговля", Stage: store.Stages[i%7]})
		}
		for _, err := range st.CreateClients(ctx, "seed", cs) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := st.Directory().Sync(ctx); err != nil {
		b.Fatal(err)
	}
	h, err := web.New(st, web.Options{PublicURL: "https://crm.example.com", Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	link, _ := h.SignInLink(ctx, head.ID)
	s := &site{t: b, st: st, h: h}
	br := &browser{s: s}
	br.do(http.MethodPost, "/app/login", map[string][]string{"t": {link[len("https://crm.example.com/app/login?t="):]}})
	if br.cookie == nil {
		b.Fatal("could not sign in")
	}
	return br, team
}

// percentileMS is the p-th of the times (sorted in place), in milliseconds.
func percentileMS(times []time.Duration, p float64) float64 {
	slices.Sort(times)
	return float64(times[int(p*float64(len(times)-1))].Microseconds()) / 1000
}

// BenchmarkBoardAndExport measures, at 100,000 clients, a head's board (p50, p95 over
// 200 requests each of three filters; its weight with the stylesheet and script) and
// the xlsx export of a filter and of every client (time, size). Seeding takes a few
// minutes:
//
//	go test ./web -run '^$' -bench BoardAndExport -benchtime 1x
func BenchmarkBoardAndExport(b *testing.B) {
	br, team := benchSite(b)
	filters := []string{"", "city=Казань", "q=Клиент+4&manager=" + team[3].ID}
	var weight int
	for b.Loop() {
		var all []time.Duration
		for _, f := range filters {
			times := make([]time.Duration, 0, 200)
			for range 200 {
				start := time.Now()
				a := br.get("/app/board?" + f)
				times = append(times, time.Since(start))
				if a.code != http.StatusOK {
					b.Fatalf("board %s: %d", f, a.code)
				}
				if f == "" {
					weight = len(a.body)
				}
			}
			all = append(all, times...)
			b.Logf("board %-40s p50 %6.1f ms, p95 %6.1f ms", f, percentileMS(times, 0.5), percentileMS(times, 0.95))
		}
		b.ReportMetric(percentileMS(all, 0.50), "board-p50-ms")
		b.ReportMetric(percentileMS(all, 0.95), "board-p95-ms")
		for _, f := range []string{"city=Казань&sort=stage", ""} {
			start := time.Now()
			a := br.get("/app/clients.xlsx?" + f)
			took := time.Since(start)
			if a.code != http.StatusOK {
				b.Fatalf("export %s: %d", f, a.code)
			}
			b.Logf("export %-30s %7.0f ms, %6.0f KB", f, float64(took.Microseconds())/1000, float64(len(a.body))/1024)
			if f == "" {
				b.ReportMetric(float64(took.Milliseconds()), "export-all-ms")
				b.ReportMetric(float64(len(a.body))/1024, "export-all-KB")
			}
		}
	}
	for _, f := range []string{"/app/static/app.css", "/app/static/app.js"} {
		weight += len(br.get(f).body)
	}
	b.ReportMetric(float64(weight)/1024, "board-KB")
}

// BenchmarkCampaignPreview measures a campaign's preview for a chosen recipient at
// 100,000 clients (each with a contact who consented), the campaign going to the gold
// seventh: server time from the request to the last byte of the page (p50, p95, p99
// over 500 requests, recipients spread over the whole base), which reads the session,
// the campaign, the segment's first 50 recipients (the list to choose from) and the
// chosen client and manager, and renders the letter. In the same run, the package
// campaign calls alone (Sample, Preview) for comparison. Seeding takes a few minutes:
//
//	go test ./web -run '^$' -bench CampaignPreview -benchtime 1x
func BenchmarkCampaignPreview(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	st := storetest.New(b)
	admin := storetest.Manager(b, st, store.Manager{Name: "Ada", Role: store.RoleAdmin, Active: true, Language: "ru", Email: "ada@company.ru"})
	var team []*store.Manager
	for i := range 20 {
		team = append(team, storetest.Manager(b, st, store.Manager{Name: fmt.Sprintf("Менеджер %d", i+1), Active: true,
			Email: fmt.Sprintf("m%d@company.ru", i)}))
	}
	now := time.Now()
	var chosen []string // gold clients spread over the base
	for off := 0; off < n; off += 1000 {
		cs := make([]*store.Client, 0, 1000)
		for i := off; i < off+1000; i++ {
			cs = append(cs, &store.Client{Name: fmt.Sprintf("ООО «Клиент %d»", i), ManagerID: team[i%len(team)].ID,
				City: benchCities[(i/3)%len(benchCities)], Industry: "Торговля", Stage: store.Stages[i%7],
				Contacts: map[string]store.Contact{"p1": {ID: "p1", Name: fmt.Sprintf("Иванов Иван %d", i),
					Emails: []string{fmt.Sprintf("c%d@example.ru", i)}, Consent: store.Consent{Given: true, At: &now}}}})
		}
		for i, err := range st.CreateClients(ctx, "seed", cs) {
			if err != nil {
				b.Fatal(err)
			}
			if cs[i].Stage == store.StageGold && (off+i)%997 < 7 {
				chosen = append(chosen, cs[i].ID)
			}
		}
	}
	if err := st.Directory().Sync(ctx); err != nil {
		b.Fatal(err)
	}
	unsub, err := campaign.NewUnsubscriber(st, "a-bench-secret-of-32-characters!", "https://crm.example.com")
	if err != nil {
		b.Fatal(err)
	}
	cs := campaign.NewCampaigns(st, unsub, "Sales <news@company.ru>", time.UTC)
	c := &store.Campaign{Name: "Зима", Subject: "{{.Contact.FirstName}}, скидки для {{.Client.Name}}",
		Text: "Здравствуйте, {{.Contact.FirstName}}!\n\nДля {{.Client.Name}} в городе {{.Client.City}} скидки.\n\n{{.Manager.Signature}}\n{{.UnsubscribeURL}}",
		HTML: "<h1>Скидки</h1><p>Здравствуйте, <b>{{.Contact.FirstName}}</b>!</p><p>{{.Client.Name}}, {{.Client.City}}</p><p>{{.Manager.Signature}}</p>" +
			`<p><a href="{{.UnsubscribeURL}}">Отписаться</a></p>`,
		Segment: store.Segment{Stages: []store.Stage{store.StageGold}}}
	if err := st.SaveCampaign(ctx, admin.ID, c); err != nil {
		b.Fatal(err)
	}
	h, err := web.New(st, web.Options{PublicURL: "https://crm.example.com", Now: time.Now, Campaigns: cs})
	if err != nil {
		b.Fatal(err)
	}
	link, _ := h.SignInLink(ctx, admin.ID)
	br := &browser{s: &site{t: b, st: st, h: h}}
	br.do(http.MethodPost, "/app/login", map[string][]string{"t": {link[len("https://crm.example.com/app/login?t="):]}})
	if br.cookie == nil {
		b.Fatal("could not sign in")
	}
	at := func(times []time.Duration, p float64) float64 {
		slices.Sort(times)
		return float64(times[int(p*float64(len(times)-1))].Microseconds()) / 1000
	}
	const reqs = 500
	for b.Loop() {
		times := make([]time.Duration, 0, reqs)
		for i := range reqs {
			start := time.Now()
			a := br.get("/app/campaigns/" + c.ID + "/preview?to=" + chosen[i%len(chosen)] + "/p1")
			times = append(times, time.Since(start))
			if a.code != http.StatusOK || !strings.Contains(a.body, "srcdoc=") {
				b.Fatalf("preview: %d", a.code)
			}
		}
		b.ReportMetric(at(times, 0.50), "p50-ms")
		b.ReportMetric(at(times, 0.95), "p95-ms")
		b.ReportMetric(at(times, 0.99), "p99-ms")
	}
	var sample, preview []time.Duration
	for i := range reqs {
		start := time.Now()
		if _, err := cs.Sample(ctx, c.Segment, 50); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, _, err := cs.Preview(ctx, c, chosen[i%len(chosen)], "p1"); err != nil {
			b.Fatal(err)
		}
		sample, preview = append(sample, mid.Sub(start)), append(preview, time.Since(mid))
	}
	b.Logf("%d recipients to choose from; campaign.Sample(50) p50 %.2f ms p95 %.2f ms; campaign.Preview p50 %.2f ms p95 %.2f ms",
		len(chosen), at(sample, 0.5), at(sample, 0.95), at(preview, 0.5), at(preview, 0.95))
}

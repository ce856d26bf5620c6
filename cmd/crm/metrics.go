package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.mongodb.org/mongo-driver/event"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/store"
)

// serveMetrics are crm serve's metrics, on one registry that /metrics serves. Each
// part counts through a small interface of its own (telegram.Metrics, mail.Metrics,
// campaign.Metrics, scheduler.Metrics), which serveMetrics fills; what can be read
// when Prometheus asks (the directory, the mailboxes' lag, the running campaigns) is
// read then. Other commands have none.
type serveMetrics struct {
	reg *prometheus.Registry
	now func() time.Time
	log *slog.Logger

	tgUpdates     prometheus.Counter
	tgUpdateTime  prometheus.Histogram
	tgSent        prometheus.Counter
	tgRateLimited prometheus.Counter
	tgRetries     prometheus.Counter
	tgGaveUp      prometheus.Counter

	mailRead, mailStored, mailUnsorted *prometheus.CounterVec
	mailLag                            *prometheus.Desc
	mailMu                             sync.Mutex
	mailReadAt                         map[string]time.Time // a mailbox's last whole read; serve's start before one

	sends *prometheus.CounterVec // by kind and result

	reminders    prometheus.Counter
	reminderLate prometheus.Histogram

	dbTime   *prometheus.HistogramVec
	dbErrors *prometheus.CounterVec
}

func newServeMetrics(now func() time.Time, log *slog.Logger) *serveMetrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		f(c)
		return c
	}
	perMailbox := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"mailbox"})
		f(c)
		return c
	}
	m := &serveMetrics{reg: reg, now: now, log: log, mailReadAt: map[string]time.Time{},
		tgUpdates: counter("crm_telegram_updates_total", "Telegram updates the bot handled."),
		tgUpdateTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "crm_telegram_update_seconds",
			Help: "How long the bot took to handle an update (until its replies were queued).", Buckets: prometheus.DefBuckets}),
		tgSent:        counter("crm_telegram_sent_total", "Bot API calls that sent, edited or answered."),
		tgRateLimited: counter("crm_telegram_rate_limited_total", "Answers 429 (too many requests) from the Bot API."),
		tgRetries:     counter("crm_telegram_retries_total", "Sends tried again after a 429, a network or a server error."),
		tgGaveUp:      counter("crm_telegram_failed_total", "Messages given up after a permanent error (a chat that blocked the bot)."),
		mailRead:      perMailbox("crm_mail_letters_read_total", "Letters read from a mailbox and stored."),
		mailStored:    perMailbox("crm_mail_letters_stored_total", "Letters new to the base."),
		mailUnsorted:  perMailbox("crm_mail_letters_unsorted_total", "Letters new to the base that matched no client (/inbox)."),
		mailLag: prometheus.NewDesc("crm_mail_poll_lag_seconds",
			"Time since every folder of a mailbox was last read to its end (since crm started, before the first time).", []string{"mailbox"}, nil),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crm_mail_send_total",
			Help: "Letters handed to the SMTP server by kind (campaign, greeting) and answer (sent, deferred, failed, unknown, down)."},
			[]string{"kind", "result"}),
		reminders: counter("crm_reminders_sent_total", "Task reminders sent to managers."),
		reminderLate: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "crm_reminder_lateness_seconds",
			Help:    "How long after its task's time a reminder went out.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600}}),
		dbTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "crm_db_command_seconds",
			Help:    "Database commands by name (find, update, insert...), until their answer.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"command"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crm_db_command_errors_total",
			Help: "Database commands that failed, by name."}, []string{"command"}),
	}
	for _, kind := range []string{"campaign", "greeting"} { // series at 0, so that rates work from the start
		for _, result := range []string{"sent", "deferred", "failed"} {
			m.sends.WithLabelValues(kind, result)
		}
	}
	f(m.tgUpdateTime)
	f(m.sends)
	f(m.reminderLate)
	f(m.dbTime)
	f(m.dbErrors)
	f(mailLag{m})
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves /metrics in Prometheus' text format. A collector that fails is left
// out of the answer, and the rest is served.
func (m *serveMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: slogPrinter{m.log}})
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics", "err", v) }

// telegram.Metrics

func (m *serveMetrics) UpdateHandled(took time.Duration) {
	m.tgUpdates.Inc()
	m.tgUpdateTime.Observe(took.Seconds())
}
func (m *serveMetrics) Sent()        { m.tgSent.Inc() }
func (m *serveMetrics) RateLimited() { m.tgRateLimited.Inc() }
func (m *serveMetrics) Retried()     { m.tgRetries.Inc() }
func (m *serveMetrics) GaveUp()      { m.tgGaveUp.Inc() }

// mail.Metrics

func (m *serveMetrics) LettersRead(mailbox string, n int) {
	m.mailRead.WithLabelValues(mailbox).Add(float64(n))
}

func (m *serveMetrics) LettersStored(mailbox string, stored, unsorted int) {
	m.mailStored.WithLabelValues(mailbox).Add(float64(stored))
	m.mailUnsorted.WithLabelValues(mailbox).Add(float64(unsorted))
}

func (m *serveMetrics) MailboxRead(mailbox string) {
	m.mailMu.Lock()
	defer m.mailMu.Unlock()
	m.mailReadAt[mailbox] = m.now()
}

// watchMailbox starts a mailbox's lag, and its counters at 0, when crm starts reading it.
func (m *serveMetrics) watchMailbox(mailbox string) {
	m.mailMu.Lock()
	m.mailReadAt[mailbox] = m.now()
	m.mailMu.Unlock()
	m.mailRead.WithLabelValues(mailbox)
	m.mailStored.WithLabelValues(mailbox)
	m.mailUnsorted.WithLabelValues(mailbox)
}

// mailLag exports crm_mail_poll_lag_seconds, worked out when asked.
type mailLag struct{ m *serveMetrics }

func (l mailLag) Describe(ch chan<- *prometheus.Desc) { ch <- l.m.mailLag }

func (l mailLag) Collect(ch chan<- prometheus.Metric) {
	l.m.mailMu.Lock()
	defer l.m.mailMu.Unlock()
	now := l.m.now()
	for mailbox, at := range l.m.mailReadAt {
		ch <- prometheus.MustNewConstMetric(l.m.mailLag, prometheus.GaugeValue, max(0, now.Sub(at).Seconds()), mailbox)
	}
}

// campaign.Metrics

func (m *serveMetrics) Attempted(kind, result string) { m.sends.WithLabelValues(kind, result).Inc() }

// scheduler.Metrics

func (m *serveMetrics) ReminderSent(late time.Duration) {
	m.reminders.Inc()
	m.reminderLate.Observe(late.Seconds())
}

// dbMonitor times the store's database commands (the driver's command events).
func (m *serveMetrics) dbMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.dbTime.WithLabelValues(e.CommandName).Observe(e.Duration.Seconds())
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			m.dbTime.WithLabelValues(e.CommandName).Observe(e.Duration.Seconds())
			m.dbErrors.WithLabelValues(e.CommandName).Inc()
		},
	}
}

// watchDirectory exports the client directory's size and how far it is behind the
// change log, looked at when Prometheus asks.
func (m *serveMetrics) watchDirectory(s *store.Store) {
	m.reg.MustRegister(directoryState{s: s,
		clients: prometheus.NewDesc("crm_directory_clients", "Clients in the search directory.", nil, nil),
		lag: prometheus.NewDesc("crm_directory_lag_seconds",
			"Age of the oldest change not yet in the search directory (0: none).", nil, nil),
		loading: prometheus.NewDesc("crm_directory_loading", "1 while the search directory loads.", nil, nil)})
}

type directoryState struct {
	s                     *store.Store
	clients, lag, loading *prometheus.Desc
}

func (d directoryState) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.clients
	ch <- d.lag
	ch <- d.loading
}

func (d directoryState) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st := d.s.CheckDirectory(ctx)
	loading := 0.0
	if st.Loading {
		loading = 1
	}
	ch <- prometheus.MustNewConstMetric(d.clients, prometheus.GaugeValue, float64(st.Clients))
	ch <- prometheus.MustNewConstMetric(d.lag, prometheus.GaugeValue, st.Behind.Seconds())
	ch <- prometheus.MustNewConstMetric(d.loading, prometheus.GaugeValue, loading)
}

// watchCampaigns exports each running campaign's letters by state; a campaign's
// series go when its run ends.
func (m *serveMetrics) watchCampaigns(s *store.Store, cs *campaign.Campaigns) {
	m.reg.MustRegister(campaignProgress{s: s, cs: cs,
		letters: prometheus.NewDesc("crm_campaign_letters", "A running campaign's letters of its current run, by state.",
			[]string{"campaign", "state"}, nil),
		left: prometheus.NewDesc("crm_campaign_letters_left", "A running campaign's letters still to send (queued, deferred, sending).",
			[]string{"campaign"}, nil)})
}

type campaignProgress struct {
	s             *store.Store
	cs            *campaign.Campaigns
	letters, left *prometheus.Desc
}

func (p campaignProgress) Describe(ch chan<- *prometheus.Desc) {
	ch <- p.letters
	ch <- p.left
}

// Collect reads the running campaigns (a small collection) and their batch heads by
// _id, as crm campaign status does.
func (p campaignProgress) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	running, err := p.s.Campaigns(ctx, store.ActiveCampaignStates()...)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(p.letters, err)
		return
	}
	for _, c := range running {
		st, err := p.cs.Status(ctx, c.ID)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(p.letters, err)
			return
		}
		t := st.Tally()
		for _, v := range []struct {
			state string
			n     int
		}{{"sent", t.Sent}, {"failed", t.Failed}, {"deferred", t.Deferred}, {"queued", t.Queued}, {"sending", t.Sending},
			{"skipped", t.Skipped}} {
			ch <- prometheus.MustNewConstMetric(p.letters, prometheus.GaugeValue, float64(v.n), c.Name, v.state)
		}
		ch <- prometheus.MustNewConstMetric(p.left, prometheus.GaugeValue, float64(t.Queued+t.Deferred+t.Sending), c.Name)
	}
}

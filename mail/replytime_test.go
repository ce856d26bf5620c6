package mail_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
	"github.com/crm-team/crm/store/storetest"
)

var msk = time.FixedZone("MSK", 3*3600)

// monday is Monday 23 November 2026 at the given time in Moscow.
func monday(h, m, s int) time.Time { return time.Date(2026, 11, 23, h, m, s, 0, msk) }

// replyWorld is a client of Ivan's (whose head is Olga; Pavel heads others) and an
// ingester with a four-hour reply limit over the working day.
type replyWorld struct {
	t                  *testing.T
	st                 *store.Store
	in                 *mail.Ingester
	ivan, olga, pavel  *store.Manager
	client             *store.Client
	mu                 sync.Mutex
	now                time.Time
	uid                uint32
	clocksStartedCalls func()
}

func newReplyWorld(t *testing.T, now time.Time) *replyWorld {
	ctx := context.Background()
	w := &replyWorld{t: t, st: storetest.New(t), now: now}
	mk := func(m *store.Manager) *store.Manager {
		if err := w.st.CreateManager(ctx, "test", m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	w.olga = mk(&store.Manager{Name: "Ольга", Role: store.RoleHead})
	w.pavel = mk(&store.Manager{Name: "Павел", Role: store.RoleHead})
	w.ivan = mk(&store.Manager{Name: "Иван", Email: "Ivan@company.ru"})
	if _, err := w.st.SetManagerHead(ctx, "test", w.ivan.ID, w.olga.ID); err != nil {
		t.Fatal(err)
	}
	w.client = &store.Client{Name: "Ромашка", ManagerID: w.ivan.ID, Contacts: map[string]store.Contact{"p": {Name: "Анна", Emails: []string{"anna@romashka.ru"}}}}
	if err := w.st.CreateClient(ctx, "test", w.client); err != nil {
		t.Fatal(err)
	}
	w.in = mail.NewIngester(w.st, mail.IngestOptions{OwnDomains: []string{"company.ru"}, ReplySLA: 4 * time.Hour,
		Calendar: store.DefaultWorkCalendar(msk), Now: w.clock,
		ClocksStarted: func() {
			if w.clocksStartedCalls != nil {
				w.clocksStartedCalls()
			}
		}})
	return w
}

func (w *replyWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *replyWorld) set(t time.Time) {
	w.mu.Lock()
	w.now = t
	w.mu.Unlock()
}

// mail stores a letter: the client's to the company, or the company's (sent) answer
// to one of them.
func (w *replyWorld) mail(sent bool, id, from, inReplyTo string, date time.Time) {
	w.t.Helper()
	w.uid++
	h := fmt.Sprintf("Message-ID: <%s>\r\nFrom: %s\r\nDate: %s\r\nSubject: Вопрос\r\n", id, from, date.Format(time.RFC1123Z))
	if sent {
		h += fmt.Sprintf("To: anna@romashka.ru\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\n", inReplyTo, inReplyTo)
	} else {
		h += "To: sales@company.ru\r\n"
	}
	f := mail.Fetched{Account: "sales", Folder: "INBOX", UID: w.uid, Sent: sent, Raw: []byte(h + "\r\nтекст\r\n")}
	if sent {
		f.Folder = "Sent"
	}
	for _, b := range [][]mail.Fetched{{f}, nil} {
		if err := w.in.Store(context.Background(), b); err != nil {
			w.t.Fatal(err)
		}
	}
}

// The answer's time is the answer's own Date, however late the CRM reads it (never
// before the client's letter, never in the future), and who answered is recorded:
// the manager whose address it came from, else the address.
func TestReplyTimeIsTheAnswersDateAndWhoAnswered(t *testing.T) {
	ctx := context.Background()
	w := newReplyWorld(t, monday(14, 30, 0)) // the answers are read after the 14:00 limit
	w.mail(false, "1@x", "anna@romashka.ru", "", monday(10, 0, 0))
	w.mail(false, "2@x", "anna@romashka.ru", "", monday(10, 0, 0))
	w.mail(false, "3@x", "anna@romashka.ru", "", monday(10, 0, 0))
	w.mail(true, "r1@company.ru", "Иван <ivan@company.ru>", "1@x", monday(13, 50, 0))
	w.mail(true, "r2@company.ru", "sales@company.ru", "2@x", monday(9, 30, 0)) // the sender's clock is wrong
	w.mail(true, "r3@company.ru", "ivan@company.ru", "3@x", monday(23, 0, 0))  // and this one's too

	for _, c := range []struct {
		letter string
		at     time.Time
		by     string
	}{
		{"1@x", monday(13, 50, 0), w.ivan.ID},
		{"2@x", monday(10, 0, 0), "sales@company.ru"},
		{"3@x", monday(14, 30, 0), w.ivan.ID},
	} {
		r, err := w.st.ReplyClock(ctx, store.LetterID(c.letter, ""))
		if err != nil || r.AnsweredAt == nil || !r.AnsweredAt.Equal(c.at) || r.AnsweredBy != c.by {
			t.Fatalf("%s: %+v %v; want answered at %s by %s", c.letter, r, err, c.at.Format("15:04"), c.by)
		}
	}
	got, err := w.st.ActivityBetween(ctx, monday(0, 0, 0), monday(0, 0, 0).AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if a := got[w.ivan.ID]; a[store.ActRepliesOnTime] != 2 || a[store.ActRepliesLate] != 1 {
		t.Fatalf("Ivan's replies: %v, want 2 on time and 1 late", a)
	}
	// A "handled" tap records who tapped.
	w.mail(false, "4@x", "anna@romashka.ru", "", monday(11, 0, 0))
	if err := w.st.MarkLetterHandled(ctx, w.olga.ID, store.LetterID("4@x", "")); err != nil {
		t.Fatal(err)
	}
	if r, err := w.st.ReplyClock(ctx, store.LetterID("4@x", "")); err != nil || r.AnsweredBy != w.olga.ID {
		t.Fatalf("handled: %+v %v", r, err)
	}
}

// fakeTimer stands for time.After: Run asks it for each wait, the test fires it.
type fakeTimer struct {
	asked chan time.Duration
	fire  chan time.Time
}

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	f.asked <- d
	return f.fire
}

func (f *fakeTimer) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-f.asked:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the watch asked for no timer")
		return 0
	}
}

type alertLog struct {
	mu  sync.Mutex
	got []mail.ReplyAlert
}

func (a *alertLog) ReplyOverdue(_ context.Context, r mail.ReplyAlert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, r)
	return nil
}

func (a *alertLog) take() []mail.ReplyAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	got := a.got
	a.got = nil
	return got
}

// The watch sleeps until the next alert falls due, not to the next minute: the
// manager's alert comes at 14:00:00 and the head's at 18:00:00. A letter stored
// meanwhile makes it read the clocks again at once. The escalation goes to the
// manager's own head only.
func TestReplyAlertComesAtItsDueTime(t *testing.T) {
	w := newReplyWorld(t, monday(10, 5, 0))
	w.mail(false, "1@x", "anna@romashka.ru", "", monday(10, 0, 0)) // due 14:00, then 18:00
	timer := &fakeTimer{asked: make(chan time.Duration), fire: make(chan time.Time)}
	alerts := &alertLog{}
	watch := mail.NewReplyWatch(w.st, alerts, mail.ReplyWatchOptions{Now: w.clock, After: timer.after})
	w.clocksStartedCalls = watch.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { watch.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	fire := func(at time.Time) {
		w.set(at)
		timer.fire <- at
	}
	if d := timer.next(t); d != time.Minute {
		t.Fatalf("at 10:05 it waits %v, want a minute (it reads the clocks again that often)", d)
	}
	// A new letter: the watch reads the clocks without its timer firing.
	w.set(monday(13, 59, 29))
	w.mail(false, "2@x", "anna@romashka.ru", "", monday(13, 0, 0)) // due at 17:00
	if d := timer.next(t); d != 31*time.Second {
		t.Fatalf("at 13:59:29 it waits %v, want 31s, to 14:00:00", d)
	}
	fire(monday(14, 0, 0))
	if d := timer.next(t); d != time.Minute {
		t.Fatalf("after the alert it waits %v", d)
	}
	if got := alerts.take(); len(got) != 1 || got[0].To != w.ivan.ID || got[0].Escalated {
		t.Fatalf("at 14:00: %+v", got)
	}
	fire(monday(17, 59, 20)) // 2@x fell due at 17:00; the head's alert for 1@x is at 18:00
	if d := timer.next(t); d != 40*time.Second {
		t.Fatalf("at 17:59:20 it waits %v, want 40s", d)
	}
	if got := alerts.take(); len(got) != 1 || got[0].LetterID != store.LetterID("2@x", "") || got[0].Escalated {
		t.Fatalf("at 17:59:20: %+v", got)
	}
	fire(monday(18, 0, 0))
	timer.next(t)
	if got := alerts.take(); len(got) != 1 || got[0].To != w.olga.ID || !got[0].Escalated || got[0].ManagerName != "Иван" {
		t.Fatalf("at 18:00: %+v, want Olga only (not Pavel)", got)
	}
}

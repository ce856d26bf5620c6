package campaign_test

import (
	"context"
	"net/mail"
	"sync"
	"testing"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail/smtptest"
)

type attempts struct {
	mu sync.Mutex
	n  map[string]int // "kind/result"
}

func (a *attempts) Attempted(kind, result string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n[kind+"/"+result]++
}

// Letters sent through a counted sender are counted by the server's answer: taken,
// deferred (4xx) and refused (5xx); the letters go as they would without counting.
func TestCountedSenderCountsAnswers(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	srv.Refuse("later@client.ru", 450)
	srv.Refuse("never@client.ru", 550)
	m := &attempts{n: map[string]int{}}
	sender := campaign.Counted(smtptest.Sender{Port: srv.Port()}, "greeting", m)
	from := &mail.Address{Address: "news@crm.test"}
	for _, to := range []string{"ok@client.ru", "later@client.ru", "never@client.ru", "ok2@client.ru"} {
		msg, err := campaign.NewMessage(from, &mail.Address{Address: to}, campaign.Rendered{Subject: "Hi", Text: "Hello"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = sender.Send(ctx, msg) // refusals are the point
	}
	if len(srv.To("ok@client.ru")) != 1 || len(srv.To("ok2@client.ru")) != 1 {
		t.Fatal("the counted sender did not send")
	}
	want := map[string]int{"greeting/sent": 2, "greeting/deferred": 1, "greeting/failed": 1}
	if len(m.n) != len(want) || m.n["greeting/sent"] != 2 || m.n["greeting/deferred"] != 1 || m.n["greeting/failed"] != 1 {
		t.Errorf("counted %v, want %v", m.n, want)
	}
	if campaign.Counted(nil, "campaign", m) != nil {
		t.Error("no sender became one")
	}
	if plain := (smtptest.Sender{Port: srv.Port()}); campaign.Counted(plain, "campaign", nil) != plain {
		t.Error("without metrics the sender is not left as it is")
	}
	// The runner sizes its workers by the pool's connections: counting keeps them.
	if c, ok := campaign.Counted(pool{}, "campaign", m).(interface{ Conns() int }); !ok || c.Conns() != 7 {
		t.Error("the counted sender hides the pool's connections")
	}
}

type pool struct{ smtptest.Sender }

func (pool) Conns() int { return 7 }

package mail

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crm-team/crm/mail/imaptest"
)

// runPoller runs a poller until the test ends.
func runPoller(t *testing.T, acc Account, rec *recorder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewPoller(acc, newProgress(), rec.sink, testLog(t)).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// A letter put in the Sent folder is read when the server announces it, as INBOX
// letters are: the poll interval is an hour here, so only IDLE on the Sent folder
// brings it. Folders past the first take a connection each, at most maxWatched.
func TestPollerSentLetterComesWithoutThePoll(t *testing.T) {
	srv := imaptest.NewServer(t)
	for _, f := range []string{"A", "B", "C", "D"} {
		srv.CreateFolder(f)
	}
	srv.AddLetters("INBOX", small(2, "in"))
	acc := account(srv)
	acc.PollInterval = time.Hour
	acc.Folders = []string{"INBOX", "Sent", "A", "B", "C", "D"}
	rec := &recorder{}
	runPoller(t, acc, rec)
	waitFor(t, "the first pass", 10*time.Second, func() bool { return len(rec.all()) == 2 })
	waitFor(t, "the watching connections", 10*time.Second, func() bool { return srv.Connections() == 1+maxWatched })

	srv.AddLetters("Sent", small(1, "out"))
	waitFor(t, "the sent letter", 10*time.Second, func() bool { return len(rec.all()) == 3 })
	if f := rec.all()[2]; f.Folder != "Sent" || !f.Sent {
		t.Fatalf("%+v", f)
	}
	srv.AddLetters("A", small(1, "a"))
	srv.AddLetters("INBOX", small(1, "in2"))
	waitFor(t, "the letters in A and INBOX", 10*time.Second, func() bool { return len(rec.all()) == 5 })
	if srv.Connections() != 1+maxWatched {
		t.Fatalf("%d connections, want %d", srv.Connections(), 1+maxWatched)
	}
}

// Only folders the reading connection could open are watched; the first one it read
// is the one it waits on itself.
func TestPollerWatchesTheFoldersItRead(t *testing.T) {
	cn := &conn{folders: []folder{{name: "Архив"}, {name: "INBOX"}, {name: "Sent", sent: true}, {name: "Gone"}},
		next: map[string][2]uint32{"INBOX": {1, 1}, "Sent": {1, 1}}}
	if cn.idleFolder() != "INBOX" || !slices.Equal(cn.watched(), []string{"Sent"}) {
		t.Fatalf("waits on %q, watches %v", cn.idleFolder(), cn.watched())
	}
}

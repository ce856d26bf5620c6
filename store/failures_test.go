package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/crm-team/crm/store"
)

// Failed letters are counted by reply, the most frequent first and at most top of
// them; sent letters and failures without a reply are left out.
func TestFailureRepliesCountsFailedLettersByReply(t *testing.T) {
	f, s := string(store.StateLetter(store.DeliveryFailed)), string(store.StateLetter(store.DeliverySent))
	d := string(store.StateLetter(store.DeliveryDeferred))
	heads := []store.Batch{
		{States: f + f + s + d, Tries: map[string]store.Try{"0": {Reply: "550 no such user"}, "1": {Reply: "554 blocked"},
			"3": {Reply: "451 try later"}}},
		{States: f + f + f + f, Tries: map[string]store.Try{"0": {Reply: "554 blocked"}, "1": {Reply: "554 blocked"},
			"2": {Reply: "553 bad address"}}},
	}
	want := []store.ReplyCount{{Reply: "554 blocked", N: 3}, {Reply: "550 no such user", N: 1}}
	if got := store.FailureReplies(heads, 2); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got := store.FailureReplies(heads, 5); len(got) != 3 || got[2].Reply != "553 bad address" {
		t.Fatalf("all of them: %+v", got)
	}
}

// The store says what failed; which setting to check is crm's to say (cmd/crm).
func TestOpenErrorsSayWhatFailed(t *testing.T) {
	ctx := context.Background()
	for uri, want := range map[string]string{
		"not an address": "database address is not valid",
		"mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300": "the database does not answer",
	} {
		_, err := store.Open(ctx, uri, "crm", store.Options{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "CRM_") {
			t.Errorf("%s: err = %v, want %q and no setting", uri, err, want)
		}
	}
}

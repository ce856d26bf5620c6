package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// initDataWhy names the text that says why init data was refused.
var initDataWhy = map[error]string{errInitDataForm: "initdata.form", errInitDataHash: "initdata.hash",
	errInitDataStale: "initdata.stale", errInitDataAhead: "initdata.ahead"}

// tgUser is who a Mini App's init data names.
type tgUser struct {
	ID           int64  `json:"id"`
	FirstName    string `json:"first_name"`
	LanguageCode string `json:"language_code"`
}

// initDataSkew is how far in the future an auth_date may be: the clocks of Telegram
// and of this machine differ a little.
const initDataSkew = time.Minute

// Why init data is refused (said on the page and in the log).
var (
	errInitDataForm  = errors.New("the data is malformed")
	errInitDataHash  = errors.New("the signature does not match")
	errInitDataStale = errors.New("the data is too old")
	errInitDataAhead = errors.New("the data is dated in the future")
)

// checkInitData validates a Mini App's init data as Telegram documents it ("Validating
// data received via the Mini App"): the hash is the hex HMAC-SHA-256 of the
// data-check-string (every field but hash, key=value, sorted by key, joined by \n)
// keyed with HMAC-SHA-256("WebAppData", bot token); auth_date must be at most maxAge
// old. A field given twice is refused, since which of them was signed is unclear.
func checkInitData(raw, botToken string, now time.Time, maxAge time.Duration) (tgUser, error) {
	var u tgUser
	vals, err := url.ParseQuery(raw)
	if err != nil || botToken == "" {
		return u, errInitDataForm
	}
	keys := make([]string, 0, len(vals))
	for k, vs := range vals {
		if len(vs) != 1 {
			return u, errInitDataForm
		}
		if k != "hash" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // by key: "a" before "a1", which sorting "a=…" lines would not give
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + vals.Get(k)
	}
	got, err := hex.DecodeString(vals.Get("hash"))
	if err != nil || len(got) != sha256.Size {
		return u, errInitDataHash
	}
	secret := hmac.New(sha256.New, []byte("WebAppData"))
	secret.Write([]byte(botToken))
	mac := hmac.New(sha256.New, secret.Sum(nil))
	mac.Write([]byte(strings.Join(lines, "\n")))
	if !hmac.Equal(mac.Sum(nil), got) {
		return u, errInitDataHash
	}
	sec, err := strconv.ParseInt(vals.Get("auth_date"), 10, 64)
	if err != nil {
		return u, errInitDataForm
	}
	switch at := time.Unix(sec, 0); {
	case now.Sub(at) > maxAge:
		return u, errInitDataStale
	case at.Sub(now) > initDataSkew:
		return u, errInitDataAhead
	}
	if err := json.Unmarshal([]byte(vals.Get("user")), &u); err != nil || u.ID == 0 {
		return u, errInitDataForm
	}
	return u, nil
}

package web

import (
	"errors"
	"testing"
	"time"
)

// Telegram's example, as the Mini Apps platform's documentation publishes it: a real
// bot token and init data it signed in 2022.
const (
	vectorToken = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
	vectorData  = "query_id=AAHdF6IQAAAAAN0XohDhrOrc" +
		"&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D" +
		"&auth_date=1662771648" +
		"&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
)

func TestInitDataKnownVector(t *testing.T) {
	signed := time.Unix(1662771648, 0)
	u, err := checkInitData(vectorData, vectorToken, signed.Add(time.Hour), DefaultInitDataAge)
	if err != nil || u.ID != 279058397 || u.LanguageCode != "ru" {
		t.Fatalf("the published example: %+v %v", u, err)
	}
	for _, c := range []struct {
		name, data, token string
		now               time.Time
		want              error
	}{
		{"another token", vectorData, "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx9", signed, errInitDataHash},
		{"a changed date", vectorData[:len(vectorData)-len("1662771648&hash=")-64] + "1662771649&hash=" + vectorData[len(vectorData)-64:], vectorToken, signed, errInitDataHash},
		{"a day later", vectorData, vectorToken, signed.Add(24*time.Hour + time.Second), errInitDataStale},
		{"before it was signed", vectorData, vectorToken, signed.Add(-2 * time.Minute), errInitDataAhead},
		{"no token", vectorData, "", signed, errInitDataForm},
	} {
		if _, err := checkInitData(c.data, c.token, c.now, DefaultInitDataAge); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

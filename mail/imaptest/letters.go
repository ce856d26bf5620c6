package imaptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// GenerateLetters makes n letters from clients to the company, the same for the same
// seed: From one of a set of client addresses (p%d@client%d.ru, with a Russian name
// as an encoded word), To sales@company.ru, a unique Message-ID, Date, a Russian
// Subject as an encoded word, a text body of 5-30 KB in UTF-8 (80%) or windows-1251
// (20%) as 8bit, quoted-printable or base64, and in 10% of them a 100-300 KB
// base64 attachment. Replies carry In-Reply-To and References.
func GenerateLetters(n int, seed uint64) [][]byte { return generate(n, seed, false) }

// GenerateOutgoing makes n letters from the company to clients (as kept in Sent),
// otherwise like GenerateLetters.
func GenerateOutgoing(n int, seed uint64) [][]byte { return generate(n, seed, true) }

func generate(n int, seed uint64, outgoing bool) [][]byte {
	lines := corpus(seed)
	out := make([][]byte, n)
	for i := range out {
		out[i] = letter(i, seed, outgoing, lines)
	}
	return out
}

// MessageID is the Message-ID (without angle brackets) of letter i of a generated set.
func MessageID(i int, seed uint64, outgoing bool) string {
	dir := "in"
	if outgoing {
		dir = "out"
	}
	return fmt.Sprintf("%d.%d.%s@imaptest.company.ru", seed, i, dir)
}

var (
	firstNames = []string{"Анна", "Иван", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Наталья", "Павел"}
	lastNames  = []string{"Петрова", "Смирнов", "Кузнецова", "Попов", "Васильева", "Соколов", "Михайлова", "Новиков", "Фёдорова", "Морозов"}
	subjects   = []string{
		"Заказ №%d", "Счёт на оплату №%d", "Коммерческое предложение №%d", "Вопрос по доставке заказа %d",
		"Акт сверки за квартал (%d)", "Договор поставки №%d — правки", "Претензия по партии %d", "Прайс-лист, запрос %d",
	}
	sentences = []string{
		"Добрый день!", "Просим выставить счёт на оплату по прилагаемой спецификации.",
		"Сроки поставки нас устраивают, но хотелось бы уточнить условия доставки до склада.",
		"Оплату гарантируем в течение пяти банковских дней после получения счёта.",
		"В прошлой партии обнаружили брак: три позиции из двадцати, фотографии приложим отдельно.",
		"Подскажите, пожалуйста, возможна ли скидка при заказе от ста единиц?",
		"Наш бухгалтер просит прислать акт сверки взаимных расчётов за третий квартал.",
		"Ёмкости объёмом 200 литров нужны к пятнице; грузовик подъедет к 10:00.",
		"С уважением, отдел закупок.", "Спасибо за оперативный ответ!",
		"Реквизиты для договора: ИНН 7701234567, КПП 770101001, р/с 40702810900000012345.",
		"Прошу связаться со мной по телефону +7 (495) 123-45-67 после обеда.",
	}
)

func letter(i int, seed uint64, outgoing bool, lines []string) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(i)*2+boolBit(outgoing)))
	client := rng.IntN(400) + 1
	person := rng.IntN(5) + 1
	name := firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))]
	clientAddr := fmt.Sprintf("p%d@client%d.ru", person, client)
	cp1251 := rng.IntN(5) == 0
	charset := "UTF-8"
	enc := func(s string) string { return s }
	if cp1251 {
		charset = "windows-1251"
		enc = func(s string) string {
			b, err := charmap.Windows1251.NewEncoder().String(s)
			if err != nil {
				return s
			}
			return b
		}
	}
	word := mime.BEncoding
	if rng.IntN(2) == 0 {
		word = mime.QEncoding
	}
	from := word.Encode(charset, enc(name)) + " <" + clientAddr + ">"
	to := "sales@company.ru"
	if outgoing {
		from, to = word.Encode(charset, enc("Отдел продаж"))+" <sales@company.ru>", from
	}
	subject := fmt.Sprintf(subjects[rng.IntN(len(subjects))], 1000+rng.IntN(9000))
	reply := i > 0 && rng.IntN(4) == 0
	if reply {
		subject = "Re: " + subject
	}
	date := time.Date(2026, 1, 12, 9, 0, 0, 0, time.FixedZone("MSK", 3*3600)).Add(time.Duration(i)*7*time.Minute + time.Duration(rng.IntN(300))*time.Second)

	var h bytes.Buffer
	fmt.Fprintf(&h, "Return-Path: <%s>\r\n", addrOf(outgoing, clientAddr))
	fmt.Fprintf(&h, "Received: from mx%d.client%d.ru (mx%d.client%d.ru [10.%d.%d.%d]) by mx.company.ru with ESMTPS; %s\r\n",
		rng.IntN(3), client, rng.IntN(3), client, rng.IntN(256), rng.IntN(256), rng.IntN(256), date.Add(2*time.Second).Format(time.RFC1123Z))
	fmt.Fprintf(&h, "Message-ID: <%s>\r\n", MessageID(i, seed, outgoing))
	if reply {
		prev := MessageID(rng.IntN(i), seed, !outgoing)
		fmt.Fprintf(&h, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", prev, prev)
	}
	fmt.Fprintf(&h, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&h, "From: %s\r\n", from)
	fmt.Fprintf(&h, "To: %s\r\n", to)
	fmt.Fprintf(&h, "Subject: %s\r\n", word.Encode(charset, enc(subject)))
	h.WriteString("MIME-Version: 1.0\r\nX-Mailer: imaptest\r\n")

	// The encoded body is 5-30 KB: 8bit Cyrillic UTF-8 is 2 bytes a letter, windows-1251
	// 1, base64 adds a third, quoted-printable triples every non-ASCII byte.
	size := 5<<10 + rng.IntN(25<<10)
	cte := [...]string{"8bit", "quoted-printable", "base64"}[rng.IntN(3)]
	switch cte {
	case "quoted-printable":
		size = size * 2 / 5
	case "base64":
		size = size * 3 / 4
	}
	if cp1251 {
		size *= 2 // the text is measured in UTF-8
	}
	encoded := encodeText(cte, enc(body(rng, lines, name, size)))
	textPart := fmt.Sprintf("Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n", charset, cte)

	if rng.IntN(10) != 0 {
		h.WriteString(textPart)
		h.Write(encoded)
		return h.Bytes()
	}
	boundary := fmt.Sprintf("=_imaptest_%d_%d", seed, i)
	fmt.Fprintf(&h, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\nThis is a multi-part message in MIME format.\r\n", boundary)
	fmt.Fprintf(&h, "--%s\r\n%s", boundary, textPart)
	h.Write(encoded)
	file := fmt.Sprintf("Счёт_%d.pdf", 1000+rng.IntN(9000))
	fmt.Fprintf(&h, "\r\n--%s\r\nContent-Type: application/pdf; name=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n"+
		"Content-Disposition: attachment; filename*=UTF-8''%s\r\n\r\n",
		boundary, mime.BEncoding.Encode("UTF-8", file), strings.ReplaceAll(url.PathEscape(file), "+", "%2B"))
	payload := make([]byte, (100<<10+rng.IntN(200<<10))*3/4) // 100-300 KB once in base64
	for j := 0; j+8 <= len(payload); j += 8 {
		v := rng.Uint64()
		for k := range 8 {
			payload[j+k] = byte(v >> (8 * k))
		}
	}
	copy(payload, "%PDF-1.7\n")
	writeBase64Lines(&h, payload)
	fmt.Fprintf(&h, "--%s--\r\n", boundary)
	return h.Bytes()
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func addrOf(outgoing bool, client string) string {
	if outgoing {
		return "sales@company.ru"
	}
	return client
}

// corpus is a few hundred lines of Russian text, each at most 72 letters, that
// letters' bodies are cut from.
func corpus(seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 1<<62))
	var lines []string
	var line strings.Builder
	for len(lines) < 600 {
		for _, w := range strings.Fields(sentences[rng.IntN(len(sentences))]) {
			if n := utf8.RuneCountInString(line.String()); n > 0 && n+1+utf8.RuneCountInString(w) > 72 {
				lines = append(lines, line.String())
				line.Reset()
			}
			if line.Len() > 0 {
				line.WriteByte(' ')
			}
			line.WriteString(w)
		}
		if rng.IntN(6) == 0 {
			lines = append(lines, line.String(), "")
			line.Reset()
		}
	}
	return lines
}

// body is about size bytes of text (UTF-8) cut from the corpus at a random line.
func body(rng *rand.Rand, lines []string, name string, size int) string {
	var b strings.Builder
	b.Grow(size + 256)
	b.WriteString("Здравствуйте!\r\n\r\n")
	for j := rng.IntN(len(lines)); b.Len() < size; j = (j + 1) % len(lines) {
		b.WriteString(lines[j])
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n--\r\n" + name + "\r\n")
	return b.String()
}

func encodeText(cte, text string) []byte {
	var buf bytes.Buffer
	switch cte {
	case "quoted-printable":
		w := quotedprintable.NewWriter(&buf)
		_, _ = w.Write([]byte(text))
		_ = w.Close()
	case "base64":
		writeBase64Lines(&buf, []byte(text))
	default:
		return []byte(text)
	}
	return buf.Bytes()
}

func writeBase64Lines(w *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.WriteString(enc[:76])
		w.WriteString("\r\n")
		enc = enc[76:]
	}
	w.WriteString(enc)
	w.WriteString("\r\n")
}

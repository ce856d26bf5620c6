package campaign

import (
	"strings"
	"unicode"
)

// addressName is how a letter addresses a person ({{.Contact.FirstName}}): the given
// name, and the patronymic when the name has one, however the parts are ordered —
// "Кравцов Игорь Васильевич" and "Игорь Васильевич Кравцов" give "Игорь Васильевич",
// "Анна Петрова" and "Петрова Анна" give "Анна". Words such as "ИП" or "г-н" are
// dropped. A name it cannot tell apart (initials, two words that may both be given
// names or both family names) stays whole: better the full name than a family name
// taken for a given one.
func addressName(full string) string {
	words := strings.Fields(strings.NewReplacer(",", " ", ";", " ").Replace(full))
	whole := strings.Join(words, " ")
	var parts []string
	for _, w := range words {
		if !nameTitles[nameKey(w)] {
			parts = append(parts, w)
		}
	}
	parts = joinTurkicPatronymics(parts)
	if p := patronymicAt(parts); p > 0 {
		return parts[p-1] + " " + parts[p]
	}
	if g := givenNameAt(parts); g >= 0 {
		return parts[g]
	}
	return whole
}

// nameKey is a word as the name lists spell it: lower case, ё as е, no final dot.
func nameKey(w string) string {
	return strings.TrimSuffix(strings.ReplaceAll(strings.ToLower(w), "ё", "е"), ".")
}

// nameTitles are written with a name but are not part of it.
var nameTitles = map[string]bool{
	"ип": true, "г-н": true, "г-жа": true, "гн": true, "гжа": true, "господин": true, "госпожа": true,
	"д-р": true, "проф": true, "mr": true, "mrs": true, "ms": true, "miss": true, "dr": true,
}

// joinTurkicPatronymics makes "Гусейн оглы" one word: the patronymic of
// "Мамедов Эльдар Гусейн оглы".
func joinTurkicPatronymics(parts []string) []string {
	out := parts[:0:0]
	for _, w := range parts {
		if n := len(out); n > 0 && turkicMarks[nameKey(w)] {
			out[n-1] += " " + w
			continue
		}
		out = append(out, w)
	}
	return out
}

var turkicMarks = map[string]bool{"оглы": true, "кызы": true, "гызы": true, "улы": true, "уулу": true}

// patronymicAt finds the patronymic that follows the given name (0: none). A word
// that ends like one may be a family name (Абрамович, Мицкевич): it counts only after
// a word that can be a given name of the same sex, and one after a known given name
// wins.
func patronymicAt(parts []string) int {
	found := 0
	for i := 1; i < len(parts); i++ {
		sex := patronymicSex(parts[i])
		if sex == 0 || !nameLike(parts[i-1]) {
			continue
		}
		given := givenNames[nameKey(parts[i-1])]
		switch {
		case given != 0 && given != sex && given != unisex:
			continue
		case given != 0:
			return i
		case found == 0:
			found = i
		}
	}
	return found
}

// patronymicSex tells whether a word ends as a patronymic does, and whose.
func patronymicSex(w string) byte {
	k := nameKey(w)
	for _, m := range []string{" оглы", " улы", " уулу", "-оглы", "-улы"} {
		if strings.HasSuffix(k, m) {
			return male
		}
	}
	for _, f := range []string{" кызы", " гызы", "-кызы", "-гызы", "овна", "евна", "ична"} {
		if strings.HasSuffix(k, f) {
			return female
		}
	}
	if strings.HasSuffix(k, "ович") || strings.HasSuffix(k, "евич") || strings.HasSuffix(k, "ьич") || shortPatronymics[k] {
		return male
	}
	return 0
}

// shortPatronymics are the male ones without -ович/-евич.
var shortPatronymics = map[string]bool{"кузьмич": true, "лукич": true, "фомич": true, "никитич": true, "саввич": true}

// givenNameAt finds the given name among the parts of a name without a patronymic
// (-1: none told apart): the one word that is a known given name, else, of two words,
// the one that does not end like a family name when the other does.
func givenNameAt(parts []string) int {
	at := -1
	for i, w := range parts {
		if givenNames[nameKey(w)] != 0 {
			if at >= 0 {
				return -1
			}
			at = i
		}
	}
	if at >= 0 || len(parts) != 2 || !nameLike(parts[0]) || !nameLike(parts[1]) {
		return at
	}
	s0, s1 := familyLike(parts[0]), familyLike(parts[1])
	switch {
	case s0 && !s1:
		return 1
	case s1 && !s0:
		return 0
	}
	if latinOnly(parts[0] + parts[1]) { // John Smith: the given name comes first
		return 0
	}
	return -1
}

// nameLike says a word can be a name: letters and hyphens, two letters at least (not
// an initial).
func nameLike(w string) bool {
	n := 0
	for _, r := range w {
		switch {
		case unicode.IsLetter(r):
			n++
		case r != '-':
			return false
		}
	}
	return n >= 2
}

func latinOnly(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return false
		}
	}
	return true
}

// familyLike says a word ends as Russian family names do.
func familyLike(w string) bool {
	k := nameKey(w)
	for _, end := range familyEndings {
		if strings.HasSuffix(k, end) && len([]rune(k)) > len([]rune(end))+1 {
			return true
		}
	}
	return false
}

var familyEndings = []string{"ов", "ова", "ев", "ева", "ин", "ина", "ын", "ына", "ский", "ская", "цкий", "цкая",
	"ской", "цкой", "ых", "их", "енко", "ук", "юк", "дзе", "швили", "ян", "янц", "ич"}

const (
	male   byte = 'm'
	female byte = 'f'
	unisex byte = 'u'
)

// givenNames are common given names (and short forms) in Russia, by sex: enough to
// tell a given name from a family name next to it.
var givenNames = func() map[string]byte {
	m := map[string]byte{}
	for sex, list := range map[byte]string{
		male: `александр алексей анатолий андрей антон аркадий арсений артем артур богдан борис вадим валентин
			валерий василий вениамин виктор виталий владимир владислав всеволод вячеслав гавриил геннадий георгий
			герман глеб григорий давид даниил данил денис дмитрий евгений егор захар иван игорь илья иннокентий
			иосиф кирилл константин лев леонид макар максим марат марк матвей михаил назар никита николай олег
			павел петр платон прохор родион роман руслан рустам савва семен сергей станислав степан тимофей тимур
			федор филипп эдуард эльдар юлиан юрий яков ян ярослав азат айдар альберт ильдар ильнур ринат рамиль
			радик дамир тагир шамиль мурат ахмед магомед саид фарид расул ислам эмиль
			алеша леша андрюша дима вова володя ваня миша коля костя паша петя сережа слава толя юра гоша гриша
			john james robert michael william david richard thomas charles daniel matthew mark paul peter george`,
		female: `александра алена алина алла анастасия ангелина анжела анна антонина арина валентина валерия вера
			вероника виктория галина дарья диана ева евгения екатерина елена елизавета жанна зинаида зоя инна
			ирина камила карина кира клавдия кристина ксения лариса лидия лилия любовь людмила маргарита марина
			мария милана надежда наталья наталия нина оксана олеся ольга полина раиса регина светлана софия софья
			таисия тамара татьяна ульяна эльвира юлия яна ярослава айгуль альбина гульнара гульшат динара
			диляра лейла зарина алсу эльмира фатима
			аня катя лена маша настя наташа оля таня света юля ира вика даша галя надя люба люда тома
			mary patricia jennifer linda elizabeth barbara susan jessica sarah karen anna maria emma olivia`,
		unisex: `саша женя валя шура`,
	} {
		for _, name := range strings.Fields(list) {
			m[name] = sex
		}
	}
	return m
}()

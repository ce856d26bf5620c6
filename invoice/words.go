package invoice

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// No module on the Go proxy writes Russian amounts in words and is kept up, so it is
// written here, after the rules accountants follow ("сумма прописью").

var (
	onesMale   = [...]string{"", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	onesFemale = [...]string{"", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"}
	teens      = [...]string{"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
		"шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"}
	tens     = [...]string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"}
	hundreds = [...]string{"", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"}
)

// scale is a power of a thousand: its forms for one, two and five, and its gender.
type scale struct {
	forms  [3]string
	female bool
}

// scales from a thousand up; int64 kopecks reach tens of quadrillions of roubles.
var scales = [...]scale{
	{[3]string{"тысяча", "тысячи", "тысяч"}, true},
	{[3]string{"миллион", "миллиона", "миллионов"}, false},
	{[3]string{"миллиард", "миллиарда", "миллиардов"}, false},
	{[3]string{"триллион", "триллиона", "триллионов"}, false},
	{[3]string{"квадриллион", "квадриллиона", "квадриллионов"}, false},
}

// plural picks the form of a noun after n: 1 рубль, 2 рубля, 5 рублей, 11 рублей, 21 рубль.
func plural(n int64, forms [3]string) string {
	if n%100/10 == 1 {
		return forms[2]
	}
	switch n % 10 {
	case 1:
		return forms[0]
	case 2, 3, 4:
		return forms[1]
	}
	return forms[2]
}

// triple writes 1..999 in words, in the gender of what it counts.
func triple(n int64, female bool) []string {
	var w []string
	if h := hundreds[n/100]; h != "" {
		w = append(w, h)
	}
	switch t := n % 100; {
	case t >= 10 && t < 20:
		return append(w, teens[t-10])
	case t >= 20:
		w = append(w, tens[t/10])
	}
	ones := onesMale
	if female {
		ones = onesFemale
	}
	if o := ones[n%10]; o != "" {
		w = append(w, o)
	}
	return w
}

// wholeWords writes a whole number of roubles in words (masculine), "ноль" for 0.
func wholeWords(n int64) string {
	if n == 0 {
		return "ноль"
	}
	var groups []int64 // thousands, from the lowest
	for ; n > 0; n /= 1000 {
		groups = append(groups, n%1000)
	}
	var w []string
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			continue
		}
		if i == 0 {
			w = append(w, triple(g, false)...)
			continue
		}
		sc := scales[i-1]
		w = append(w, triple(g, sc.female)...)
		w = append(w, plural(g, sc.forms))
	}
	return strings.Join(w, " ")
}

// AmountInWords writes an amount in kopecks as an invoice does: "Двенадцать тысяч
// пятьсот рублей 00 копеек", "Одна тысяча двадцать один рубль 01 копейка".
func AmountInWords(minor int64) string {
	sign := ""
	if minor < 0 {
		sign = "минус "
	}
	rub, kop := minor/100, minor%100
	if rub < 0 {
		rub, kop = -rub, -kop
	}
	s := sign + wholeWords(rub) + " " + plural(rub, [3]string{"рубль", "рубля", "рублей"}) + " " +
		twoDigits(kop) + " " + plural(kop, [3]string{"копейка", "копейки", "копеек"})
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// VATIncluded is the VAT contained in a VAT-inclusive total at rate percent:
// total×rate/(100+rate), rounded half up, in whole kopecks and without overflow.
func VATIncluded(total int64, rate int) int64 {
	if rate <= 0 || total <= 0 {
		return 0
	}
	d := int64(100 + rate)
	q, r := total/d, total%d
	return q*int64(rate) + (r*int64(rate)+d/2)/d
}

package mail_test

import (
	"strings"
	"testing"
)

func TestParseHTMLOnlyLetterIsReducedToReadableText(t *testing.T) {
	l := parseFile(t, "utf8_html_only.eml")
	noProblems(t, l)
	want := "Коммерческое предложение\n\n" +
		"Здравствуйте, Иван!\n\n" +
		"Предлагаем поставку ёмкостей по цене 4 500 ₽ & бесплатную доставку.\n" +
		"Подробности — на нашем сайте.\n\n" +
		"- Объём 200 л\n- Пищевой пластик\n\n" +
		"Телефон: +7 (495) 123-45-67\n\n" +
		"«Ромашка» © 2026"
	if l.Text != want {
		t.Errorf("Text = %q\nwant   %q", l.Text, want)
	}
	if !strings.Contains(l.HTML, `<script>trackOpen("xyz");</script>`) || !strings.Contains(l.HTML, "&laquo;Ромашка&raquo;") {
		t.Errorf("HTML is not kept as sent: %q", l.HTML)
	}
	if l.Preview != want {
		t.Errorf("Preview = %q", l.Preview)
	}
}

func TestParseHTMLReductionRules(t *testing.T) {
	for _, tc := range []struct{ name, html, want string }{
		{"br is a line break, text runs collapse", "<div>Строка  1<br>Строка\n\t2<br/><br>Строка 3</div>", "Строка 1\nСтрока 2\n\nСтрока 3"},
		{"links keep their text only", `<p>См. <a href="https://x.ru/a?b=1&amp;c=2">прайс</a>.</p>`, "См. прайс."},
		{"entities are decoded", "<p>&laquo;A&raquo; &amp; B &lt;C&gt; &#1046; &#x416; 5&nbsp;000</p>", "«A» & B <C> Ж Ж 5 000"},
		{"script, style, head and title are dropped", "<html><head><title>T</title><style>p{x:y}</style></head><body><script>alert(1)</script><p>Текст</p></body></html>", "Текст"},
		{"a head that is never closed ends at body", "<head><title>T</title><body><p>Текст</p>", "Текст"},
		{"at most one blank line in a row", "<p>A</p><p></p><p></p><div><br><br><br><br></div><p>B</p>", "A\n\nB"},
		{"blockquote lines are quoted", "<p>Да.</p><blockquote><p>Вопрос?</p></blockquote><p>Спасибо</p>", "Да.\n\n> Вопрос?\n\nСпасибо"},
		{"pre keeps its lines", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"table cells are separated", "<table><tr><td>ИНН</td><td>7701234567</td></tr><tr><td>КПП</td><td>770101001</td></tr></table>", "ИНН 7701234567\nКПП 770101001"},
		{"comments and conditional comments are dropped", "<!--[if mso]><p>Outlook only</p><![endif]--><p>Всем</p>", "Всем"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := parseString("From: a@b.ru\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + tc.html)
			if l.Text != tc.want {
				t.Errorf("Text = %q, want %q", l.Text, tc.want)
			}
		})
	}
}

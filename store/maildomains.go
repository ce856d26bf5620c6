package store

import (
	"slices"
	"strings"
)

// publicMailDomains are free mail services: a sender's domain there says nothing about
// which company they work for, so neither the mail matcher nor the unsorted queue's
// sender index (waiting.go) treats it as a company's.
var publicMailDomains = []string{"gmail.com", "googlemail.com", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru",
	"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "rambler.ru", "lenta.ru", "autorambler.ru", "myrambler.ru",
	"ro.ru", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com", "yahoo.com",
	"aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "zoho.com", "qip.ru", "pochta.ru", "ukr.net", "tut.by"}

// PublicMailDomains lists the free mail services (a copy).
func PublicMailDomains() []string { return slices.Clone(publicMailDomains) }

// PublicMailDomain tells whether a domain is a free mail service's.
func PublicMailDomain(domain string) bool {
	return slices.Contains(publicMailDomains, strings.ToLower(domain))
}

// CompanyMailDomain is an address's domain when it can stand for a company: "" for a
// free mail service or no domain.
func CompanyMailDomain(address string) string {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(address)), "@")
	if !ok || domain == "" || PublicMailDomain(domain) {
		return ""
	}
	return domain
}

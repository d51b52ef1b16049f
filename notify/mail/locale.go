package mail

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Locale is a supported message language, as a lower-case ISO 639-1 code.
type Locale string

// Supported locales. LocaleEN is the fallback.
const (
	LocaleEN Locale = "en"
	LocaleFR Locale = "fr"
	LocaleDE Locale = "de"
)

// DefaultLocale is used when nothing better can be determined.
const DefaultLocale = LocaleEN

// Locales returns every supported locale, fallback first.
func Locales() []Locale { return []Locale{LocaleEN, LocaleFR, LocaleDE} }

// Bounds applied to an Accept-Language header, which is client-controlled.
const (
	maxAcceptLanguageLen     = 1024
	maxAcceptLanguageEntries = 32
)

// SupportedLocale reports the supported locale designated by s, a language
// tag such as "fr", "fr-FR", "de_CH" or "EN". Only the primary language
// subtag is considered; the match is case-insensitive. It is meant to
// validate an explicit locale field (a user preference, an API input).
func SupportedLocale(s string) (Locale, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	switch l := Locale(strings.ToLower(s)); l {
	case LocaleEN, LocaleFR, LocaleDE:
		return l, true
	}
	return "", false
}

// ParseLocale picks the locale of a message: a supported explicit value
// ("fr", "fr-FR", "DE", ...) wins; otherwise the supported language with the
// highest q-value in the Accept-Language header (ties keep header order,
// q=0 means "not acceptable"); otherwise English. It never fails.
func ParseLocale(explicit, acceptLanguage string) Locale {
	if l, ok := SupportedLocale(explicit); ok {
		return l
	}
	if l, ok := matchAcceptLanguage(acceptLanguage); ok {
		return l
	}
	return DefaultLocale
}

func matchAcceptLanguage(header string) (Locale, bool) {
	if header == "" || len(header) > maxAcceptLanguageLen {
		return "", false
	}
	type candidate struct {
		locale Locale
		q      float64
	}
	var cands []candidate
	for i, entry := range strings.Split(header, ",") {
		if i >= maxAcceptLanguageEntries {
			break
		}
		tag, params, _ := strings.Cut(entry, ";")
		q, ok := parseQ(params)
		if !ok || q <= 0 {
			continue
		}
		l, ok := SupportedLocale(tag)
		if !ok {
			continue // includes "*" and garbage
		}
		cands = append(cands, candidate{l, q})
	}
	if len(cands) == 0 {
		return "", false
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.q, a.q) })
	return cands[0].locale, true
}

// parseQ extracts the q-value of an Accept-Language entry's parameters
// ("q=0.8"); absent means 1. ok is false for a malformed or out-of-range q.
func parseQ(params string) (q float64, ok bool) {
	q = 1
	for _, p := range strings.Split(params, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(p), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(f >= 0 && f <= 1) { // also rejects NaN
			return 0, false
		}
		q = f
	}
	return q, true
}

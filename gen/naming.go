package gen

import (
	"strings"
	"unicode"
)

// initialisms are words written in capitals in Go names. The key is the
// lower-case word.
var initialisms = map[string]string{
	"acl": "ACL", "adl": "ADL", "api": "API", "ascii": "ASCII", "http": "HTTP",
	"id": "ID", "ids": "IDs", "ip": "IP", "json": "JSON", "rpi": "RPI",
	"tls": "TLS", "ttl": "TTL", "uri": "URI", "url": "URL", "utc": "UTC",
	"uuid": "UUID", "vwap": "VWAP", "ws": "WS",
}

// GoName turns a schema name (lowerCamel, snake_case or kebab-case) into an
// exported Go name: "aggTradeId" → "AggTradeID", "event_time" → "EventTime".
// It is the only naming function; schema items that need another name say so
// with a `go:` key.
func GoName(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		if up, ok := initialisms[strings.ToLower(w)]; ok {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// words splits s at separators and at lower-to-upper case changes, keeping
// runs of capitals together ("HTTPServer" → "HTTP", "Server").
func words(s string) []string {
	var out []string
	r := []rune(s)
	start := 0
	flush := func(end int) {
		if end > start {
			out = append(out, string(r[start:end]))
		}
		start = end
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			flush(i)
			start = i + 1
			continue
		}
		if i > start && unicode.IsUpper(c) {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush(i)
			}
		}
	}
	flush(len(r))
	return out
}

// constSuffix turns an enum value into the part of a constant name after the
// enum's name: "1m" → "1m", "current_quarter" → "CurrentQuarter",
// "+08:00" → "0800".
func constSuffix(v string) string {
	var b strings.Builder
	for _, w := range words(v) {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// isGoIdent reports whether s is a valid exported Go identifier.
func isGoIdent(s string) bool {
	for i, c := range s {
		if c == '_' || unicode.IsLetter(c) || (i > 0 && unicode.IsDigit(c)) {
			continue
		}
		return false
	}
	return s != "" && unicode.IsUpper([]rune(s)[0])
}

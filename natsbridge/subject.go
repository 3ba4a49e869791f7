package natsbridge

import (
	"errors"
	"fmt"
	"strings"
)

// SubjectPrefix is the first token of every subject a Bridge publishes to.
const SubjectPrefix = "mw"

// Subject returns the NATS subject of a market's wire stream:
// mw.<market>.<stream>, each name escaped with EscapeToken so that it is one
// valid subject token. ParseSubject reverses it.
func Subject(market, stream string) string {
	return SubjectPrefix + "." + EscapeToken(market) + "." + EscapeToken(stream)
}

// ParseSubject returns the market and wire stream names of a subject built
// by Subject; it fails on any other subject.
func ParseSubject(subject string) (market, stream string, err error) {
	parts := strings.Split(subject, ".")
	if len(parts) != 3 || parts[0] != SubjectPrefix {
		return "", "", fmt.Errorf("natsbridge: subject %q is not %s.<market>.<stream>", subject, SubjectPrefix)
	}
	if market, err = UnescapeToken(parts[1]); err == nil {
		stream, err = UnescapeToken(parts[2])
	}
	if err != nil {
		return "", "", fmt.Errorf("natsbridge: subject %q: %w", subject, err)
	}
	return market, stream, nil
}

// EscapeToken makes s one valid NATS subject token, reversibly: every byte
// a token may not hold or that has a meaning in subjects is written as '%'
// and two upper-case hex digits, as in URLs. Those bytes are '.' (the token
// separator), '*' and '>' (wildcards), '%' itself, ASCII control
// characters, space and DEL (whitespace ends a subject), and every byte
// of 0x80 and above, so that subjects stay ASCII. Everything else, '@',
// ':', '!', '-' and '_' included (which stream names use), is kept, so
// btcusdt@aggTrade stays readable. The empty string, which is no token,
// is written as a lone "%", which no escape produces.
func EscapeToken(s string) string {
	if s == "" {
		return "%"
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if escaped(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if escaped(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func escaped(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' || c == '%'
}

// UnescapeToken reverses EscapeToken. It fails on a token EscapeToken
// cannot produce: an empty one, a '%' not followed by two upper-case hex
// digits of a byte that is escaped, or a byte that should have been.
func UnescapeToken(tok string) (string, error) {
	if tok == "%" {
		return "", nil
	}
	if tok == "" {
		return "", errors.New("empty token")
	}
	if !strings.Contains(tok, "%") {
		for i := 0; i < len(tok); i++ {
			if escaped(tok[i]) {
				return "", fmt.Errorf("token %q: byte %q should be escaped", tok, tok[i])
			}
		}
		return tok, nil
	}
	b := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '%' {
			if escaped(c) {
				return "", fmt.Errorf("token %q: byte %q should be escaped", tok, c)
			}
			b = append(b, c)
			continue
		}
		if i+2 >= len(tok) {
			return "", fmt.Errorf("token %q: truncated escape at %d", tok, i)
		}
		hi, ok1 := unhex(tok[i+1])
		lo, ok2 := unhex(tok[i+2])
		v := hi<<4 | lo
		if !ok1 || !ok2 || !escaped(v) {
			return "", fmt.Errorf("token %q: bad escape %q", tok, tok[i:i+3])
		}
		b = append(b, v)
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

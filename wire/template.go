package wire

import (
	"errors"
	"strconv"
	"strings"
)

// Template is a parsed stream-name template such as
// "<symbol>@depth<levels>[@<speed>]": literal text, <param> placeholders
// and [ ... ] optional groups, which may nest.
type Template struct {
	Text  string // the template as written
	Parts []Part
}

// Part is one piece of a template. Exactly one field is set.
type Part struct {
	Literal  string // text that must appear as is
	Param    string // name of a placeholder
	Optional []Part // a group that is either wholly present or absent
}

// ParseTemplate parses a stream-name template. It rejects unbalanced
// brackets or angles, empty or invalid parameter names (the form is
// [a-zA-Z][a-zA-Z0-9_]*), a parameter used twice, an empty optional group,
// and two parameters that can follow each other with no literal text
// between them, which would make matching ambiguous.
func ParseTemplate(s string) (*Template, error) {
	p := templateParser{s: s, seen: map[string]bool{}}
	parts, err := p.parse(false)
	if err != nil {
		return nil, err
	}
	if _, err := checkAdjacent(s, parts, ""); err != nil {
		return nil, err
	}
	return &Template{Text: s, Parts: parts}, nil
}

// MustTemplate is like ParseTemplate but panics on error.
func MustTemplate(s string) *Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// Params returns the placeholder names in order of appearance.
func (t *Template) Params() []string {
	return appendParams(nil, t.Parts)
}

// Match matches the whole of name against the template. The captured
// values are returned in the order of Params; a parameter inside an
// optional group that is absent gets "". A capture is never empty.
//
// accept, when not nil, is asked about every candidate capture and can
// reject it, for example a value outside an enum. Matching backtracks: a
// parameter tries the shortest capture first, and an optional group is
// tried present first, then absent.
func (t *Template) Match(name string, accept func(param, value string) bool) ([]string, bool) {
	m := matcher{name: name, accept: accept, caps: make([]string, countParams(t.Parts))}
	if m.match(t.Parts, 0, nil, 0) {
		return m.caps, true
	}
	return nil, false
}

type templateParser struct {
	s    string
	i    int
	seen map[string]bool
}

func (p *templateParser) errorf(off int, msg string) error {
	return errors.New("wire: template " + strconv.Quote(p.s) + ": " + msg + " at offset " + strconv.Itoa(off))
}

// parse reads parts up to the end, or up to a ']' when inside a group.
func (p *templateParser) parse(inGroup bool) ([]Part, error) {
	var parts []Part
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ']':
			if !inGroup {
				return nil, p.errorf(p.i, "unmatched ']'")
			}
			return parts, nil
		case '>':
			return nil, p.errorf(p.i, "unmatched '>'")
		case '[':
			open := p.i
			p.i++
			group, err := p.parse(true)
			if err != nil {
				return nil, err
			}
			if p.i >= len(p.s) {
				return nil, p.errorf(open, "unclosed '['")
			}
			p.i++ // ']'
			if len(group) == 0 {
				return nil, p.errorf(open, "empty optional group")
			}
			parts = append(parts, Part{Optional: group})
		case '<':
			open := p.i
			n := strings.IndexByte(p.s[open+1:], '>')
			if n < 0 {
				return nil, p.errorf(open, "unclosed '<'")
			}
			name := p.s[open+1 : open+1+n]
			switch {
			case name == "":
				return nil, p.errorf(open, "empty parameter name")
			case !validParam(name):
				return nil, p.errorf(open, "invalid parameter name "+strconv.Quote(name))
			case p.seen[name]:
				return nil, p.errorf(open, "parameter <"+name+"> used twice")
			}
			p.seen[name] = true
			parts = append(parts, Part{Param: name})
			p.i = open + n + 2
		default:
			start := p.i
			for p.i < len(p.s) && !strings.ContainsRune("[]<>", rune(p.s[p.i])) {
				p.i++
			}
			parts = append(parts, Part{Literal: p.s[start:p.i]})
		}
	}
	return parts, nil
}

func validParam(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !isDigit(c) && c != '_') {
			return false
		}
	}
	return name != ""
}

// checkAdjacent rejects two parameters that can meet with nothing between
// them. prev is a parameter that may end the text before parts, or "". It
// returns such a parameter for the text after parts.
func checkAdjacent(text string, parts []Part, prev string) (string, error) {
	for _, p := range parts {
		switch {
		case p.Literal != "":
			prev = ""
		case p.Param != "":
			if prev != "" {
				return "", errors.New("wire: template " + strconv.Quote(text) + ": parameters <" + prev + "> and <" + p.Param + "> can be adjacent")
			}
			prev = p.Param
		default:
			last, err := checkAdjacent(text, p.Optional, prev)
			if err != nil {
				return "", err
			}
			if last != "" { // else the group ends in text, or is absent
				prev = last
			}
		}
	}
	return prev, nil
}

func appendParams(dst []string, parts []Part) []string {
	for _, p := range parts {
		if p.Param != "" {
			dst = append(dst, p.Param)
		} else {
			dst = appendParams(dst, p.Optional)
		}
	}
	return dst
}

func countParams(parts []Part) int {
	n := 0
	for _, p := range parts {
		if p.Param != "" {
			n++
		} else {
			n += countParams(p.Optional)
		}
	}
	return n
}

type matcher struct {
	name   string
	accept func(param, value string) bool
	caps   []string
}

// cont is what remains to match after an optional group.
type cont struct {
	parts []Part
	idx   int // index of the first parameter in parts
	next  *cont
}

// match matches parts, whose first parameter has index idx, and then k
// against name[pos:].
func (m *matcher) match(parts []Part, idx int, k *cont, pos int) bool {
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		switch {
		case p.Literal != "":
			if !strings.HasPrefix(m.name[pos:], p.Literal) {
				return false
			}
			pos += len(p.Literal)
		case p.Param != "":
			return m.matchParam(p.Param, parts, idx, k, pos)
		default:
			n := countParams(p.Optional)
			if m.match(p.Optional, idx, &cont{parts, idx + n, k}, pos) {
				return true
			}
			clear(m.caps[idx : idx+n])
			idx += n
		}
	}
	if k != nil {
		return m.match(k.parts, k.idx, k.next, pos)
	}
	return pos == len(m.name)
}

// matchParam tries each capture for param at pos, shortest first.
func (m *matcher) matchParam(param string, parts []Part, idx int, k *cont, pos int) bool {
	last := len(parts) == 0 && k == nil
	var lit string // literal that must follow, if known
	if len(parts) > 0 {
		lit = parts[0].Literal
	}
	for end := pos + 1; end <= len(m.name); end++ {
		switch {
		case last:
			end = len(m.name)
		case lit != "":
			j := strings.Index(m.name[end:], lit)
			if j < 0 {
				return false
			}
			end += j
		}
		v := m.name[pos:end]
		if m.accept != nil && !m.accept(param, v) {
			continue
		}
		m.caps[idx] = v
		if m.match(parts, idx+1, k, end) {
			return true
		}
	}
	m.caps[idx] = ""
	return false
}

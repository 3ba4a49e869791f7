package gen

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/marketwire/marketwire/wire"
)

// placeholder finds the {name} placeholders of a dialect message template.
var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// builtinVars are the placeholders the runtime fills itself.
var builtinVars = map[string]bool{"id": true, "streams": true, "token": true, "method": true, "params": true}

// placeholders returns the placeholders of a message template.
func placeholders(t string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(t, -1) {
		out = append(out, m[1])
	}
	return out
}

func (v *validator) dialect(d *Dialect, where string) {
	if len(d.Key) == 0 || d.Data == "" {
		v.errf(d.Line, "%sneeds key and data (how data frames are routed)", where)
	}
	for _, part := range d.Key {
		if len(part) == 0 {
			v.errf(d.Line, "%skey: every part needs at least one path", where)
		}
	}
	if len(d.Subscribe) == 0 {
		v.errf(d.Line, "%sneeds at least one subscribe template", where)
	}
	streams := false
	for _, t := range append(append([]string{}, d.Subscribe...), d.Unsubscribe...) {
		streams = streams || strings.Contains(t, "{streams}")
	}
	if d.Batch > 0 && !streams {
		v.errf(d.Line, "%sbatch needs {streams} in the subscribe templates", where)
	}
	if streams && d.Batch == 0 {
		v.errf(d.Line, "%s{streams} needs a batch size", where)
	}
	if d.Request != "" && d.ReplyID == "" {
		v.errf(d.Line, "%srequest needs reply_id (its reply is matched by id)", where)
	}
	for key, list := range map[string][]string{"ack": d.Ack, "errors": d.Errors, "shutdown": d.Shutdown, "ignore": d.Ignore} {
		for _, m := range list {
			if strings.HasPrefix(m, "=") || m == "" {
				v.errf(d.Line, "%s%s: %q must be member or member=value", where, key, m)
			}
		}
	}
	if k := d.KeepAlive; k != nil {
		if dur, err := time.ParseDuration(k.Every); err != nil || dur <= 0 || k.Message == "" {
			v.errf(k.Line, "%skeepalive needs a message and a positive every (got %q)", where, k.Every)
		}
	}
	if d.Probe != "" && !json.Valid([]byte(d.Probe)) {
		v.errf(d.Line, "%sprobe %q is not a JSON message", where, d.Probe)
	}
	if a := d.Auth; a != nil && (!strings.Contains(a.Message, "{token}") || len(a.OK) == 0) {
		v.errf(a.Line, "%sauth needs a message with {token} and the ok frames", where)
	}
}

// streamDialect checks what the runtime needs to address the stream: its
// key and vars templates use its parameters, one subscribe template fits
// it, and its dispatch group and login exist.
func (v *validator) streamDialect(s *Stream, d *Dialect, groups []*Dispatch, where string) {
	params := map[string]bool{}
	for _, p := range s.Params {
		params[p.Name] = true
	}
	checkTemplate := func(what, text string) {
		t, err := wire.ParseTemplate(text)
		if err != nil {
			v.errf(s.Line, "%s%s %q: %v", where, what, text, err)
			return
		}
		for _, p := range t.Params() {
			if !params[p] {
				v.errf(s.Line, "%s%s %q: <%s> is not a parameter of the stream", where, what, text, p)
			}
		}
	}
	if s.Key != "" {
		checkTemplate("key", s.Key)
	}
	have := map[string]bool{}
	for name := range params {
		have[name] = true
	}
	for _, name := range sortedKeys(s.Vars) {
		v.name(s.Line, "var", name, where)
		checkTemplate("var "+name, s.Vars[name])
		have[name] = true
	}
	fits := func(templates []string) bool {
		for _, t := range templates {
			ok := true
			for _, p := range placeholders(t) {
				ok = ok && (have[p] || builtinVars[p])
			}
			if ok {
				return true
			}
		}
		return false
	}
	if !fits(d.Subscribe) {
		v.errf(s.Line, "%sno subscribe template of the venue fits the stream (it has: %s)", where, strings.Join(sortedKeys(have), ", "))
	}
	if len(d.Unsubscribe) > 0 && !fits(d.Unsubscribe) {
		v.errf(s.Line, "%sno unsubscribe template of the venue fits the stream", where)
	}
	if s.Auth && d.Auth == nil {
		v.errf(s.Line, "%sauth: the venue's dialect has no auth", where)
	}
	if s.Dispatch != "" {
		var g *Dispatch
		for _, x := range groups {
			if x.Name == s.Dispatch {
				g = x
			}
		}
		switch {
		case g == nil:
			v.errf(s.Line, "%sdispatch %q is not a dispatch group of the market", where, s.Dispatch)
		case g.Data == "":
			v.errf(s.Line, "%sdispatch %q: the group needs data (it decodes whole frames)", where, s.Dispatch)
		}
	}
}

// splitMatch splits a "member" or "member=value" frame match.
func splitMatch(m string) (member, value string) {
	member, value, _ = strings.Cut(m, "=")
	return member, value
}

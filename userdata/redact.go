package userdata

import (
	"errors"
	"strings"
	"sync"
)

// redactor remembers the secrets of one Stream (API key, HMAC secret, every
// listen key it used, its latest signatures) and removes them from any text
// before the text leaves the package. The package never puts a secret into a
// message on purpose; this is the second line of defence, for texts built
// elsewhere (the runtime, the network stack, the exchange's own messages).
type redactor struct {
	mu   sync.Mutex
	subs map[string]string // secret -> replacement
	sigs []string          // recent signatures, oldest first
}

const maxSignatures = 16

func newRedactor(c Credentials) *redactor {
	r := &redactor{subs: map[string]string{}}
	if c.c != nil {
		r.add(c.c.apiKey, Redact(c.c.apiKey))
		if len(c.c.secret) > 0 {
			r.add(string(c.c.secret), "[secret]")
		}
	}
	return r
}

// add registers a secret and what replaces it. Strings under 8 bytes are
// ignored: replacing them would mangle ordinary words.
func (r *redactor) add(secret, with string) {
	if len(secret) < 8 {
		return
	}
	r.mu.Lock()
	r.subs[secret] = with
	r.mu.Unlock()
}

// addKey registers a listen key.
func (r *redactor) addKey(key string) { r.add(key, "listenKey "+Redact(key)) }

// addSignature registers a signature, keeping only the latest few.
func (r *redactor) addSignature(sig string) {
	if len(sig) < 8 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs[sig] = "[signature]"
	r.sigs = append(r.sigs, sig)
	if len(r.sigs) > maxSignatures {
		delete(r.subs, r.sigs[0])
		r.sigs = r.sigs[1:]
	}
}

// scrub replaces every known secret in s.
func (r *redactor) scrub(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for secret, with := range r.subs {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, with)
		}
	}
	return s
}

// dirty reports whether s contains a known secret.
func (r *redactor) dirty(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for secret := range r.subs {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
}

// err returns err with its text scrubbed. The result unwraps to the first
// error of err's chain whose own text holds no secret (often the cause, such
// as a *runtime.ServerError or context.Canceled), so errors.Is and errors.As
// keep working without exposing a wrapper that quotes a secret.
func (r *redactor) err(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := err.(*scrubbed); ok {
		return se
	}
	clean := err
	for clean != nil && r.dirty(clean.Error()) {
		clean = errors.Unwrap(clean)
	}
	if clean == err {
		return err
	}
	return &scrubbed{msg: r.scrub(err.Error()), next: clean}
}

type scrubbed struct {
	msg  string
	next error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.next }

package userdata

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// KeyType is the kind of an API key, which decides how requests are signed.
type KeyType int

// The key types Binance issues.
const (
	KeyHMAC    KeyType = iota + 1 // a secret key; HMAC-SHA256, hex
	KeyEd25519                    // an Ed25519 private key; base64
	KeyRSA                        // an RSA private key; RSASSA-PKCS1-v1_5 with SHA-256, base64
)

// String returns the key type's name.
func (t KeyType) String() string {
	switch t {
	case KeyHMAC:
		return "HMAC"
	case KeyEd25519:
		return "Ed25519"
	case KeyRSA:
		return "RSA"
	}
	return fmt.Sprintf("KeyType(%d)", int(t))
}

// Credentials are an API key and what signs for it: an HMAC secret, an
// Ed25519 private key or an RSA private key. Build them with NewHMAC,
// NewEd25519, NewRSA or ParsePEM.
//
// The value is opaque on purpose: its secrets sit behind an unexported
// pointer, so no printer (fmt with any verb, %#v included, encoding/json,
// log/slog) can reach them. Every printed form is the redacted one, e.g.
// "HMAC key vmPU…h8A": the first four and last three characters of the API
// key, nothing of the secret.
type Credentials struct {
	c *credentials
}

type credentials struct {
	apiKey string
	typ    KeyType
	secret []byte
	ed     ed25519.PrivateKey
	rsa    *rsa.PrivateKey
}

// NewHMAC returns credentials that sign with an HMAC-SHA256 secret key.
func NewHMAC(apiKey, secret string) Credentials {
	return Credentials{&credentials{apiKey: apiKey, typ: KeyHMAC, secret: []byte(secret)}}
}

// NewEd25519 returns credentials that sign with an Ed25519 private key.
func NewEd25519(apiKey string, key ed25519.PrivateKey) Credentials {
	return Credentials{&credentials{apiKey: apiKey, typ: KeyEd25519, ed: key}}
}

// NewRSA returns credentials that sign with an RSA private key.
func NewRSA(apiKey string, key *rsa.PrivateKey) Credentials {
	return Credentials{&credentials{apiKey: apiKey, typ: KeyRSA, rsa: key}}
}

// ParsePEM returns credentials for a PEM-encoded, unencrypted private key as
// Binance's key generator writes it: PKCS#8 ("PRIVATE KEY", Ed25519 or RSA)
// or PKCS#1 ("RSA PRIVATE KEY"). Its errors never quote the key.
func ParsePEM(apiKey string, data []byte) (Credentials, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return Credentials{}, errors.New("userdata: ParsePEM: no PEM block found")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return Credentials{}, errors.New("userdata: ParsePEM: invalid PKCS#1 RSA private key")
		}
		return NewRSA(apiKey, k), nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return Credentials{}, errors.New("userdata: ParsePEM: invalid PKCS#8 private key")
		}
		switch k := k.(type) {
		case ed25519.PrivateKey:
			return NewEd25519(apiKey, k), nil
		case *rsa.PrivateKey:
			return NewRSA(apiKey, k), nil
		default:
			return Credentials{}, fmt.Errorf("userdata: ParsePEM: unsupported key type %T", k)
		}
	}
	return Credentials{}, fmt.Errorf("userdata: ParsePEM: unsupported PEM block %q", block.Type)
}

// IsZero reports whether c holds no credentials.
func (c Credentials) IsZero() bool { return c.c == nil }

// Type returns the key type, or 0 for zero Credentials.
func (c Credentials) Type() KeyType {
	if c.c == nil {
		return 0
	}
	return c.c.typ
}

// Redacted returns the short, printable form of the API key ("vmPU…h8A").
func (c Credentials) Redacted() string {
	if c.c == nil {
		return "none"
	}
	return Redact(c.c.apiKey)
}

func (c Credentials) apiKey() string {
	if c.c == nil {
		return ""
	}
	return c.c.apiKey
}

func (c Credentials) validate() error {
	switch {
	case c.c == nil:
		return errors.New("userdata: no credentials")
	case c.c.apiKey == "":
		return errors.New("userdata: credentials without an API key")
	case c.c.typ == KeyHMAC && len(c.c.secret) == 0:
		return errors.New("userdata: HMAC credentials without a secret")
	case c.c.typ == KeyEd25519 && len(c.c.ed) != ed25519.PrivateKeySize:
		return errors.New("userdata: Ed25519 credentials without a valid private key")
	case c.c.typ == KeyRSA && c.c.rsa == nil:
		return errors.New("userdata: RSA credentials without a private key")
	}
	return nil
}

// Sign signs payload as Binance requires for the key type: HMAC-SHA256 as
// lowercase hex; Ed25519, or RSASSA-PKCS1-v1_5 over SHA-256, as standard
// base64. The payload of a request is its parameters except signature,
// sorted by name, as name=value pairs joined by & (see SignaturePayload).
// The result is a secret too: the package never prints it.
func (c Credentials) Sign(payload string) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	switch c.c.typ {
	case KeyHMAC:
		m := hmac.New(sha256.New, c.c.secret)
		m.Write([]byte(payload))
		return hex.EncodeToString(m.Sum(nil)), nil
	case KeyEd25519:
		return base64.StdEncoding.EncodeToString(ed25519.Sign(c.c.ed, []byte(payload))), nil
	case KeyRSA:
		sum := sha256.Sum256([]byte(payload))
		sig, err := rsa.SignPKCS1v15(rand.Reader, c.c.rsa, crypto.SHA256, sum[:])
		if err != nil {
			return "", errors.New("userdata: RSA signing failed")
		}
		return base64.StdEncoding.EncodeToString(sig), nil
	}
	return "", fmt.Errorf("userdata: unknown key type %d", int(c.c.typ))
}

// SignaturePayload builds the string a signature covers: every parameter
// except "signature", sorted by name, formatted name=value and joined by &.
// Values are used as they are sent (no URL encoding).
func SignaturePayload(params map[string]string) string {
	names := make([]string, 0, len(params))
	for k := range params {
		if k != "signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}

// String returns the redacted form, e.g. "HMAC key vmPU…h8A".
func (c Credentials) String() string {
	if c.c == nil {
		return "no credentials"
	}
	return c.c.typ.String() + " key " + Redact(c.c.apiKey)
}

// GoString returns the redacted form for %#v.
func (c Credentials) GoString() string {
	if c.c == nil {
		return "userdata.Credentials{}"
	}
	return fmt.Sprintf("userdata.Credentials{%s, %q}", c.c.typ, Redact(c.c.apiKey))
}

// Format prints the redacted form for every verb and flag.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue gives log/slog the redacted form.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalText gives encoders (encoding/json included) the redacted form.
func (c Credentials) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Redact returns the short form of a key that may be printed: its first
// four and last three characters ("vmPU…h8A"), or "…" for a string shorter
// than 16 characters, which would reveal too much of itself.
func Redact(s string) string {
	if len(s) < 16 {
		return "…"
	}
	return s[:4] + "…" + s[len(s)-3:]
}

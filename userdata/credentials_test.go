package userdata_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/marketwire/marketwire/userdata"
)

// The HMAC example of Binance's WebSocket API documentation.
func TestSignHMACDocumentedExample(t *testing.T) {
	params := map[string]string{
		"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
		"quantity": "0.01000000", "price": "52000.00", "newOrderRespType": "ACK",
		"recvWindow": "100", "timestamp": "1645423376532", "apiKey": apiKey,
		"signature": "ignored",
	}
	payload := userdata.SignaturePayload(params)
	want := "apiKey=" + apiKey + "&newOrderRespType=ACK&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
	if payload != want {
		t.Fatalf("payload\n %s\nwant\n %s", payload, want)
	}
	sig, err := userdata.NewHMAC(apiKey, secret).Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	if sig != "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a" {
		t.Fatalf("signature %s", sig)
	}
}

func TestSignEd25519AndRSA(t *testing.T) {
	const payload = "apiKey=abc&timestamp=1"
	sig, err := userdata.NewEd25519(apiKey, edKey).Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sig)
	if !ed25519.Verify(edKey.Public().(ed25519.PublicKey), []byte(payload), raw) {
		t.Fatal("Ed25519 signature does not verify")
	}
	key := rsaKey(t)
	sig, err = userdata.NewRSA(apiKey, key).Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = base64.StdEncoding.DecodeString(sig)
	sum := sha256.Sum256([]byte(payload))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], raw); err != nil {
		t.Fatal("RSA signature does not verify:", err)
	}
}

func TestParsePEM(t *testing.T) {
	der, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := userdata.ParsePEM(apiKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil || c.Type() != userdata.KeyEd25519 {
		t.Fatalf("Ed25519 PKCS#8: %v %v", c, err)
	}
	key := rsaKey(t)
	c, err = userdata.ParsePEM(apiKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	if err != nil || c.Type() != userdata.KeyRSA {
		t.Fatalf("RSA PKCS#1: %v %v", c, err)
	}
	bad := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("secret-material-not-a-key")})
	if _, err := userdata.ParsePEM(apiKey, bad); err == nil || strings.Contains(err.Error(), "secret-material") {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := userdata.ParsePEM(apiKey, []byte("nothing")); err == nil {
		t.Fatal("no PEM block accepted")
	}
}

// Every printed form of Credentials is the redacted one.
func TestCredentialsPrintRedacted(t *testing.T) {
	c := userdata.NewHMAC(apiKey, secret)
	cases := []struct{ got, want string }{
		{fmt.Sprint(c), "HMAC key vmPU…h8A"},
		{fmt.Sprintf("%+v", c), "HMAC key vmPU…h8A"},
		{fmt.Sprintf("%#v", c), `userdata.Credentials{HMAC, "vmPU…h8A"}`},
		{fmt.Sprintf("%x", c), "HMAC key vmPU…h8A"},
		{c.Redacted(), "vmPU…h8A"},
		{userdata.Redact("short"), "…"},
		{userdata.Credentials{}.String(), "no credentials"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	b, err := json.Marshal(map[string]any{"c": c})
	if err != nil || string(b) != `{"c":"HMAC key vmPU…h8A"}` {
		t.Errorf("JSON %s %v", b, err)
	}
}

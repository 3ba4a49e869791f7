package wire

import (
	"errors"
	"testing"
)

func TestFieldError(t *testing.T) {
	inner := &TypeError{Offset: 5, Want: "string", Got: "number"}
	err := NewFieldError("spot", "aggTrade", "p", inner)
	if got, want := err.Error(), `spot: decode aggTrade field "p": expected string, got number`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, inner) {
		t.Error("errors.Is does not find the inner error")
	}
	// A nested object: the inner field error gets the outer key as prefix.
	nested := NewFieldError("spot", "kline", "o", inner)
	outer := NewFieldError("spot", "kline", "k", nested)
	var fe *FieldError
	if !errors.As(outer, &fe) || fe.Key != "k.o" || fe.Err != inner {
		t.Errorf("nested: %#v", outer)
	}
	if got, want := outer.Error(), `spot: decode kline field "k.o": expected string, got number`; got != want {
		t.Errorf("nested Error() = %q, want %q", got, want)
	}
	deeper := NewFieldError("spot", "x", "a", outer)
	if got := deeper.(*FieldError).Key; got != "a.k.o" {
		t.Errorf("deeper key %q", got)
	}
	if NewFieldError("spot", "x", "a", nil) != nil {
		t.Error("nil error wrapped")
	}
	if got, want := (&FieldError{Key: "p", Err: inner}).Error(), `decode field "p": expected string, got number`; got != want {
		t.Errorf("no market/event: %q, want %q", got, want)
	}
	se := &SyntaxError{Offset: 17, Msg: "expected ':' after object key"}
	if got, want := se.Error(), "wire: offset 17: expected ':' after object key"; got != want {
		t.Errorf("SyntaxError = %q, want %q", got, want)
	}
}

func TestFieldErrorWholeValue(t *testing.T) {
	inner := &TypeError{Want: "array", Got: "object"}
	err := NewFieldError("spot", "PriceLevel", "", inner)
	if got, want := err.Error(), `spot: decode PriceLevel: expected array, got object`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// A generated UnmarshalJSON wraps what decodeJSON returned with key "".
	fe := NewFieldError("spot", "kline", "k", NewFieldError("spot", "klineData", "o", inner))
	top := NewFieldError("spot", "kline", "", fe).(*FieldError)
	if top.Key != "k.o" || top.Err != inner {
		t.Errorf("top: %#v", top)
	}
}

func TestEventError(t *testing.T) {
	err := NewFieldError("spot", "aggTrade", "e", NewEventError("trade", []string{"aggTrade"}))
	if got, want := err.Error(), `spot: decode aggTrade field "e": event "trade", want "aggTrade"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var ee *EventError
	if !errors.As(err, &ee) || ee.Got != "trade" {
		t.Errorf("errors.As: %#v", err)
	}
	many := &EventError{Got: "2hTicker", Want: []string{"1hTicker", "4hTicker"}}
	if got, want := many.Error(), `event "2hTicker", want one of "1hTicker", "4hTicker"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	missing := NewFieldError("spot", "aggTrade", "a", ErrMissing)
	if got, want := missing.Error(), `spot: decode aggTrade field "a": missing`; got != want || !errors.Is(missing, ErrMissing) {
		t.Errorf("missing: %q, want %q", got, want)
	}
}

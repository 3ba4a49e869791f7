package gen

import "testing"

// TestShared checks which types the decoders count unknown keys of by
// path (wire.Decoder.SkipUnknown with a nil scope): those some type holds
// at more than one path, directly or through another type.
func TestShared(t *testing.T) {
	level := &TypeModel{GoName: "Level", Tuple: true}
	inner := &TypeModel{GoName: "Inner"}
	leaf := &TypeModel{GoName: "Leaf"}
	mid := &TypeModel{GoName: "Mid", Fields: []*FieldModel{{Key: "l", Type: FieldType{Struct: leaf}}}}
	book := &TypeModel{GoName: "Book", Fields: []*FieldModel{
		{Key: "b", Type: FieldType{Slice: true, Struct: level}},
		{Key: "a", Type: FieldType{Slice: true, Struct: level}},
		{Key: "i", Type: FieldType{Struct: inner}, Pointer: true},
	}}
	// Leaf is held once by Mid, but Twice holds Mid at two keys.
	twice := &TypeModel{GoName: "Twice", Fields: []*FieldModel{
		{Key: "x", Type: FieldType{Struct: mid}},
		{Key: "y", Type: FieldType{Struct: mid}},
	}}
	// Inner is held by Book and by Other, once each: not shared.
	other := &TypeModel{GoName: "Other", Fields: []*FieldModel{{Key: "i", Type: FieldType{Struct: inner}}}}
	e := &emitter{m: &MarketModel{Types: []*TypeModel{level, inner, leaf, mid, book, twice, other}}}
	got := e.shared()
	for _, tm := range e.m.Types {
		want := tm == level || tm == mid || tm == leaf
		if got[tm] != want {
			t.Errorf("%s: shared %v, want %v", tm.GoName, got[tm], want)
		}
	}
}

package gen

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"
)

// json emits the decoders and encoders. Decoders walk the payload once with
// wire.Decoder and match keys with an exact (case-sensitive) switch, so a
// key that differs only in case can never land in the wrong field; unknown
// keys are skipped and counted in the drift report (wire.DriftReport): the
// default branch of the switch, never taken while every key is known, is
// the only place that counts. Encoders append the fields in schema order.
func (e *emitter) json(f *jen.File) {
	for _, t := range e.m.Types {
		scope := driftScope(t)
		f.Add(doc(fmt.Sprintf("%s counts the drift (wire.DriftReport) of %s payloads and of the objects they hold.", scope, t.GoName)))
		f.Var().Id(scope).Op("=").Qual(wirePkg, "DriftScope").Values(jen.Dict{jen.Id("Market"): jen.Lit(e.m.Name), jen.Id("Event"): jen.Lit(t.ErrName)})
		e.unmarshal(f, t.GoName, scope, jen.Err().Op("=").Id("v").Dot("decodeJSON").Call(jen.Op("&").Id("d")))
		if t.Tuple {
			e.decodeTuple(f, t)
			if e.pairSlice(t) {
				e.decodePairSlice(f, t)
			}
		} else {
			e.decodeObject(f, t)
		}
		e.marshal(f, t.GoName)
		if t.Tuple {
			e.encodeTuple(f, t)
		} else {
			e.encodeObject(f, t)
		}
	}
	for _, t := range e.m.Arrays {
		decodeArray := "DecodeArray"
		if t.Either {
			decodeArray = "DecodeArrayOrOne"
		}
		e.unmarshal(f, t.ArrayName, driftScope(t), jen.List(jen.Op("*").Id("v"), jen.Err()).Op("=").Qual(wirePkg, decodeArray).Call(
			jen.Op("&").Id("d"), jen.Parens(jen.Op("*").Id("v")).Index(jen.Empty(), jen.Lit(0)), jen.Parens(jen.Op("*").Id(t.GoName)).Dot("decodeJSON")))
		e.marshal(f, t.ArrayName)
		f.Add(doc("AppendJSON appends the wire JSON array to dst."))
		f.Func().Params(jen.Id("v").Op("*").Id(t.ArrayName)).Id("AppendJSON").Params(jen.Id("dst").Index().Byte()).Index().Byte().Block(
			append(e.encodeSlice(jen.Parens(jen.Op("*").Id("v")), FieldType{Slice: true, Struct: t}), jen.Return(jen.Id("dst")))...,
		).Line()
	}
}

// unmarshal emits UnmarshalJSON around decode, a statement that sets err,
// by way of unmarshalJSON, which the stream decoders call without the copy.
// The decoder counts drift in scope, the payload type's DriftScope; a
// failure goes through its DecodeError, which counts a missing key or a
// wrong event kind.
func (e *emitter) unmarshal(f *jen.File, typ, scope string, decode jen.Code) {
	f.Add(doc(fmt.Sprintf("UnmarshalJSON decodes the wire JSON of %s. Strings and decimals in v share one copy of data.", typ)))
	f.Func().Params(jen.Id("v").Op("*").Id(typ)).Id("UnmarshalJSON").Params(jen.Id("data").Index().Byte()).Error().Block(
		jen.Return(jen.Id("v").Dot("unmarshalJSON").Call(jen.Id("data"), jen.False(), jen.Nil())),
	)
	f.Add(doc("unmarshalJSON is UnmarshalJSON; with shared set, strings and decimals in v alias data instead of a copy of it (see wire.Decoder.ResetShared). New slices come from slab when it holds their wire.Slab (see wire.Decoder.Slab)."))
	f.Func().Params(jen.Id("v").Op("*").Id(typ)).Id("unmarshalJSON").Params(jen.Id("data").Index().Byte(), jen.Id("shared").Bool(), jen.Id("slab").Any()).Error().Block(
		jen.Var().Id("d").Qual(wirePkg, "Decoder"),
		jen.If(jen.Id("shared")).Block(
			jen.Id("d").Dot("ResetShared").Call(jen.Id("data")),
		).Else().Block(
			jen.Id("d").Dot("Reset").Call(jen.Id("data")),
		),
		jen.Id("d").Dot("Drift").Op("=").Op("&").Id(scope),
		jen.Id("d").Dot("Slab").Op("=").Id("slab"),
		jen.Var().Err().Error(),
		decode,
		jen.If(jen.Err().Op("==").Nil()).Block(jen.Err().Op("=").Id("d").Dot("End").Call()),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(scope).Dot("DecodeError").Call(jen.Lit(""), jen.Id("data"), jen.Err()))),
		jen.Return(jen.Nil()),
	)
}

// shared returns the types that some type holds at more than one path
// (such as a price level under both "b" and "a"). An unknown key in a
// type held at one path only is counted by the type's scope and the key
// (wire.Decoder.SkipUnknown), the path worked out once; in a shared type
// it has to be worked out each time.
func (e *emitter) shared() map[*TypeModel]bool {
	if e.sharedTypes != nil {
		return e.sharedTypes
	}
	e.sharedTypes = map[*TypeModel]bool{}
	type pair struct{ from, to *TypeModel }
	memo := map[pair]int{}
	var paths func(from, to *TypeModel) int // how many paths lead from a payload of from to objects of to
	paths = func(from, to *TypeModel) int {
		if n, ok := memo[pair{from, to}]; ok {
			return n
		}
		memo[pair{from, to}] = 2 // a cycle: never when types are held by value
		n := 0
		for _, fd := range from.Fields {
			if s := fd.Type.Struct; s != nil {
				if s == to {
					n++
				}
				n += paths(s, to)
			}
		}
		memo[pair{from, to}] = n
		return n
	}
	for _, from := range e.m.Types {
		for _, to := range e.m.Types {
			if paths(from, to) > 1 {
				e.sharedTypes[to] = true
			}
		}
	}
	return e.sharedTypes
}

// driftScope is the name of the wire.DriftScope variable of t.
func driftScope(t *TypeModel) string { return "driftOf" + t.GoName }

// marshal emits MarshalJSON on top of AppendJSON.
func (e *emitter) marshal(f *jen.File, typ string) {
	f.Add(doc("MarshalJSON returns the wire JSON of v."))
	f.Func().Params(jen.Id("v").Id(typ)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Return(jen.Id("v").Dot("AppendJSON").Call(jen.Nil()), jen.Nil()))
}

func (e *emitter) fieldError(errName string, key, err jen.Code) jen.Code {
	return jen.Qual(wirePkg, "NewFieldError").Call(jen.Lit(e.m.Name), jen.Lit(errName), key, err)
}

// reset is the first statement of a decoder: it clears v but keeps the
// capacity of required slices, as encoding/json does.
func reset(t *TypeModel) jen.Code {
	keep := jen.Dict{}
	for _, fd := range t.Fields {
		if fd.Type.Slice && !fd.Optional && !fd.Nullable {
			keep[jen.Id(fd.GoName)] = jen.Id("v").Dot(fd.GoName).Index(jen.Empty(), jen.Lit(0))
		}
	}
	return jen.Op("*").Id("v").Op("=").Id(t.GoName).Values(keep)
}

// decodeObject emits decodeJSON of an object type. Each required key sets
// its bit in seen; at the end of the object a missing bit is a FieldError
// naming the first missing key (wire.ErrMissing). When the market has an
// event key and the type event values, the key's value must be one of them
// (wire.EventError).
func (e *emitter) decodeObject(f *jen.File, t *TypeModel) {
	required := 0
	for _, fd := range t.Fields {
		if !fd.Optional {
			required++
		}
	}
	keysVar, kindsVar := lowerFirst(t.GoName)+"Required", lowerFirst(t.GoName)+"Kinds"
	var cases []jen.Code
	bit := 0
	for _, fd := range t.Fields {
		var body []jen.Code
		if !fd.Optional {
			body = append(body, jen.Id("seen").Op("|=").Lit(1).Op("<<").Lit(bit))
			bit++
		}
		body = append(body, e.decodeField(fd, jen.Id("v").Dot(fd.GoName))...)
		if e.checksKind(t, fd) {
			var cond *jen.Statement
			for _, k := range t.Kinds {
				c := jen.Id("v").Dot(fd.GoName).Op("!=").Lit(k)
				if cond == nil {
					cond = jen.Err().Op("==").Nil().Op("&&").Add(c)
				} else {
					cond = cond.Op("&&").Add(c)
				}
			}
			body = append(body, jen.If(cond).Block(
				jen.Err().Op("=").Qual(wirePkg, "NewEventError").Call(jen.Id("v").Dot(fd.GoName), jen.Id(kindsVar))))
		}
		cases = append(cases, jen.Case(jen.Lit(fd.Key)).Block(body...))
	}
	in := jen.Op("&").Id(driftScope(t))
	if e.shared()[t] {
		in = jen.Nil()
	}
	cases = append(cases, jen.Default().Block(jen.Err().Op("=").Id("d").Dot("SkipUnknown").Call(jen.Id("key"), in)))
	loop := []jen.Code{
		jen.List(jen.Id("key"), jen.Id("ok"), jen.Err()).Op(":=").Id("d").Dot("NextKey").Call(),
		jen.If(jen.Err().Op("!=").Nil().Op("||").Op("!").Id("ok")).Block(jen.Return(jen.Err())),
	}
	body := []jen.Code{
		reset(t),
		jen.If(jen.Err().Op(":=").Id("d").Dot("ObjectStart").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
	}
	if required > 0 {
		all := uint64(1)<<required - 1
		if required == 64 {
			all = ^uint64(0)
		}
		body = append(body, jen.Var().Id("seen").Uint64())
		end := []jen.Code{
			jen.If(jen.Id("seen").Op("!=").Id(fmt.Sprintf("%#x", all))).Block(
				jen.Return(e.fieldError(t.ErrName, jen.Id(keysVar).Index(jen.Qual("math/bits", "TrailingZeros64").Call(jen.Op("^").Id("seen"))), jen.Qual(wirePkg, "ErrMissing")))),
			jen.Return(jen.Nil()),
		}
		loop = []jen.Code{
			jen.List(jen.Id("key"), jen.Id("ok"), jen.Err()).Op(":=").Id("d").Dot("NextKey").Call(),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			jen.If(jen.Op("!").Id("ok")).Block(end...),
		}
	}
	loop = append(loop,
		jen.Switch(jen.Id("key")).Block(cases...),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(e.fieldError(t.ErrName, jen.Id("key"), jen.Err()))),
	)
	body = append(body, jen.For().Block(loop...))
	f.Func().Params(jen.Id("v").Op("*").Id(t.GoName)).Id("decodeJSON").Params(jen.Id("d").Op("*").Qual(wirePkg, "Decoder")).Error().Block(body...).Line()
	if required > 0 {
		var keys []jen.Code
		for _, fd := range t.Fields {
			if !fd.Optional {
				keys = append(keys, jen.Lit(fd.Key))
			}
		}
		f.Add(doc(fmt.Sprintf("%s holds the required keys of %s, in the order of their bits in decodeJSON.", keysVar, t.GoName)))
		f.Var().Id(keysVar).Op("=").Index(jen.Lit(required)).String().Values(keys...)
	}
	if e.checksKindAny(t) {
		var kinds []jen.Code
		for _, k := range t.Kinds {
			kinds = append(kinds, jen.Lit(k))
		}
		f.Add(doc(fmt.Sprintf("%s are the values of %q that %s payloads may carry.", kindsVar, e.m.EventKey, t.GoName)))
		f.Var().Id(kindsVar).Op("=").Index().String().Values(kinds...)
	}
}

// checksKind reports whether fd is the market's event key in a type whose
// decoder checks it.
func (e *emitter) checksKind(t *TypeModel, fd *FieldModel) bool {
	return e.m.EventKey != "" && len(t.Kinds) > 0 && fd.Key == e.m.EventKey && !fd.Pointer && fd.Type.Scalar == "string" && !fd.Type.Slice
}

func (e *emitter) checksKindAny(t *TypeModel) bool {
	for _, fd := range t.Fields {
		if e.checksKind(t, fd) {
			return true
		}
	}
	return false
}

func (e *emitter) decodeTuple(f *jen.File, t *TypeModel) {
	body := []jen.Code{
		reset(t),
		jen.If(jen.Err().Op(":=").Id("d").Dot("ArrayStart").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Var().Err().Error(),
	}
	if decimalPair(t) {
		// The compact ["price","qty"] of order books, read in one step.
		body = append([]jen.Code{
			jen.If(jen.List(jen.Id("a"), jen.Id("b"), jen.Id("ok")).Op(":=").Id("d").Dot("DecimalPair").Call(), jen.Id("ok")).Block(
				jen.Id("v").Dot(t.Fields[0].GoName).Op(",").Id("v").Dot(t.Fields[1].GoName).Op("=").List(jen.Id("a"), jen.Id("b")),
				jen.Return(jen.Nil()),
			),
		}, body...)
	}
	for i, fd := range t.Fields {
		body = append(body,
			jen.If(jen.Err().Op("=").Qual(wirePkg, "TupleElem").Call(jen.Id("d")), jen.Err().Op("==").Nil()).Block(
				e.decodeField(fd, jen.Id("v").Dot(fd.GoName))...),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(e.fieldError(t.ErrName, jen.Lit(strconv.Itoa(i)), jen.Err()))))
	}
	body = append(body, jen.Return(jen.Qual(wirePkg, "TupleEnd").Call(jen.Id("d"))))
	f.Func().Params(jen.Id("v").Op("*").Id(t.GoName)).Id("decodeJSON").Params(jen.Id("d").Op("*").Qual(wirePkg, "Decoder")).Error().Block(body...).Line()
}

// decimalPair reports whether tuple t is two quoted decimals, which
// wire.Decoder.DecimalPair reads.
func decimalPair(t *TypeModel) bool {
	if len(t.Fields) != 2 {
		return false
	}
	for _, fd := range t.Fields {
		if fd.Type.Slice || fd.Pointer || fd.Type.Enum != nil || fd.Type.Scalar != "decimal" || fd.Type.JSON == "number" {
			return false
		}
	}
	return true
}

// pairSlice reports whether some field holds a slice of t, a tuple of two
// quoted decimals, which decodePairSlice's function decodes.
func (e *emitter) pairSlice(t *TypeModel) bool {
	if !t.Tuple || !decimalPair(t) {
		return false
	}
	for _, o := range e.m.Types {
		for _, fd := range o.Fields {
			if fd.Type.Slice && fd.Type.Struct == t {
				return true
			}
		}
	}
	return false
}

// pairSliceFunc names the function that decodePairSlice emits for t.
func pairSliceFunc(t *TypeModel) string { return "decode" + t.GoName + "Slice" }

// decodePairSlice emits the decoder of an array of t, a tuple of two quoted
// decimals such as the ["price","qty"] levels of an order book, which are
// most of a depth payload: each compact element is read in one step
// (wire.Decoder.NextDecimalPair), in place of wire.DecodeArray's call per
// element; any other element goes the long way, through t's decodeJSON,
// which also reports errors.
func (e *emitter) decodePairSlice(f *jen.File, t *TypeModel) {
	name := pairSliceFunc(t)
	d, dst := jen.Id("d"), jen.Id("dst")
	keep := jen.Qual(wirePkg, "ArrayKeep").Call(d, dst, jen.Id("lent"))
	f.Add(doc(fmt.Sprintf("%s decodes a JSON array of %s, appending to dst (see wire.DecodeArray); compact elements are read in one step.", name, t.GoName)))
	f.Func().Id(name).Params(d.Clone().Op("*").Qual(wirePkg, "Decoder"), dst.Clone().Index().Id(t.GoName)).Params(jen.Index().Id(t.GoName), jen.Error()).Block(
		jen.If(d.Clone().Dot("IsNull").Call()).Block(jen.Return(jen.Nil(), jen.Nil())),
		jen.If(jen.Err().Op(":=").Add(d.Clone()).Dot("ArrayStart").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(dst, jen.Err())),
		jen.List(dst.Clone(), jen.Id("lent")).Op(":=").Qual(wirePkg, "ArrayRoom").Call(d, dst),
		jen.For().Block(
			jen.If(jen.List(jen.Id("a"), jen.Id("b"), jen.Id("ok")).Op(":=").Add(d.Clone()).Dot("NextDecimalPair").Call(), jen.Id("ok")).Block(
				dst.Clone().Op("=").Append(dst, jen.Id(t.GoName).Values(jen.Dict{jen.Id(t.Fields[0].GoName): jen.Id("a"), jen.Id(t.Fields[1].GoName): jen.Id("b")})),
				jen.Continue(),
			),
			jen.If(jen.List(jen.Id("ok"), jen.Err()).Op(":=").Add(d.Clone()).Dot("NextElem").Call(), jen.Err().Op("!=").Nil().Op("||").Op("!").Id("ok")).Block(jen.Return(keep, jen.Err())),
			dst.Clone().Op("=").Append(dst, jen.Id(t.GoName).Values()),
			jen.If(jen.Err().Op(":=").Add(dst.Clone()).Index(jen.Len(dst).Op("-").Lit(1)).Dot("decodeJSON").Call(d), jen.Err().Op("!=").Nil()).Block(jen.Return(keep, jen.Err())),
		),
	).Line()
}

// decodeField returns statements that decode the next value into target and
// set err.
func (e *emitter) decodeField(fd *FieldModel, target *jen.Statement) []jen.Code {
	if fd.Type.Slice && fd.Type.Struct != nil && e.pairSlice(fd.Type.Struct) {
		return []jen.Code{jen.List(target.Clone(), jen.Err()).Op("=").Id(pairSliceFunc(fd.Type.Struct)).Call(
			jen.Id("d"), target.Clone().Index(jen.Empty(), jen.Lit(0)))}
	}
	if fd.Type.Slice {
		return []jen.Code{jen.List(target.Clone(), jen.Err()).Op("=").Qual(wirePkg, "DecodeArray").Call(
			jen.Id("d"), target.Clone().Index(jen.Empty(), jen.Lit(0)), e.elemDecoder(fd.Type))}
	}
	if !fd.Pointer {
		return e.decodeValue(fd.Type, target)
	}
	// A pointer field: nil for null, otherwise a new value.
	target2 := jen.Op("*").Id("p")
	if fd.Type.Struct != nil {
		target2 = jen.Id("p") // call decodeJSON on the pointer
	}
	inner := append([]jen.Code{jen.Id("p").Op(":=").New(e.elemType(fd.Type))}, e.decodeValue(fd.Type, target2)...)
	inner = append(inner, target.Clone().Op("=").Id("p"))
	return []jen.Code{jen.If(jen.Id("d").Dot("IsNull").Call()).Block(target.Clone().Op("=").Nil()).Else().Block(inner...)}
}

// decodeValue returns statements that decode one non-slice value into target.
func (e *emitter) decodeValue(t FieldType, target *jen.Statement) []jen.Code {
	d := jen.Id("d")
	set := func(method string) []jen.Code {
		return []jen.Code{jen.List(target.Clone(), jen.Err()).Op("=").Add(d.Clone().Dot(method).Call())}
	}
	// convert decodes with method into a temporary and converts it.
	convert := func(method string, to jen.Code) []jen.Code {
		return []jen.Code{
			jen.List(jen.Id("x"), jen.Id("xerr")).Op(":=").Add(d.Clone().Dot(method).Call()),
			jen.List(target.Clone(), jen.Err()).Op("=").Add(to).Call(jen.Id("x")).Op(",").Id("xerr"),
		}
	}
	switch {
	case t.Struct != nil:
		return []jen.Code{jen.Err().Op("=").Add(target.Clone()).Dot("decodeJSON").Call(d)}
	case t.Enum != nil:
		return convert("String", jen.Id(t.Enum.GoName))
	}
	switch t.Scalar {
	case "string":
		return set("String")
	case "bool":
		return set("Bool")
	case "int":
		if t.JSON == "string" {
			return set("IntString")
		}
		return set("Int")
	case "uint":
		return set("Uint")
	case "float":
		return set("Float")
	case "decimal":
		if t.JSON == "number" {
			return set("DecimalNumber")
		}
		return set("Decimal")
	case "raw":
		return set("Raw")
	}
	return convert("Int", jen.Qual(wirePkg, timeTypes[t.Scalar]))
}

// elemDecoder returns a function value that decodes one slice element.
func (e *emitter) elemDecoder(t FieldType) jen.Code {
	switch {
	case t.Struct != nil:
		return jen.Parens(jen.Op("*").Id(t.Struct.GoName)).Dot("decodeJSON")
	case t.Enum == nil && t.Scalar == "string":
		return jen.Qual(wirePkg, "ReadString")
	case t.Enum == nil && t.Scalar == "decimal":
		return jen.Qual(wirePkg, "ReadDecimal")
	case t.Enum == nil && t.Scalar == "int":
		return jen.Qual(wirePkg, "ReadInt")
	case t.Enum == nil && t.Scalar == "bool":
		return jen.Qual(wirePkg, "ReadBool")
	}
	one := t
	one.Slice = false
	body := append([]jen.Code{jen.Var().Err().Error()}, e.decodeValue(one, jen.Op("*").Id("v"))...)
	body = append(body, jen.Return(jen.Err()))
	return jen.Func().Params(jen.Id("v").Op("*").Add(e.elemType(t)), jen.Id("d").Op("*").Qual(wirePkg, "Decoder")).Error().Block(body...)
}

func (e *emitter) encodeObject(f *jen.File, t *TypeModel) {
	// Every field is written as `,"key":value`; the first comma becomes the
	// opening brace at the end, so optional fields need no bookkeeping.
	body := []jen.Code{jen.Id("start").Op(":=").Len(jen.Id("dst"))}
	for _, fd := range t.Fields {
		target := jen.Id("v").Dot(fd.GoName)
		write := append([]jen.Code{jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Lit(fmt.Sprintf(",%q:", fd.Key)).Op("..."))},
			e.encodeField(fd, target)...)
		if fd.Optional && (fd.Pointer || fd.Type.Slice) {
			body = append(body, jen.If(target.Clone().Op("!=").Nil()).Block(write...))
		} else {
			body = append(body, write...)
		}
	}
	body = append(body,
		jen.If(jen.Len(jen.Id("dst")).Op("==").Id("start")).Block(jen.Return(jen.Append(jen.Id("dst"), jen.Lit("{}").Op("...")))),
		jen.Id("dst").Index(jen.Id("start")).Op("=").LitRune('{'),
		jen.Return(jen.Append(jen.Id("dst"), jen.LitRune('}'))),
	)
	f.Add(doc("AppendJSON appends the wire JSON of v to dst."))
	f.Func().Params(jen.Id("v").Op("*").Id(t.GoName)).Id("AppendJSON").Params(jen.Id("dst").Index().Byte()).Index().Byte().Block(body...).Line()
}

func (e *emitter) encodeTuple(f *jen.File, t *TypeModel) {
	body := []jen.Code{jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.LitRune('['))}
	for i, fd := range t.Fields {
		if i > 0 {
			body = append(body, jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.LitRune(',')))
		}
		body = append(body, e.encodeField(fd, jen.Id("v").Dot(fd.GoName))...)
	}
	body = append(body, jen.Return(jen.Append(jen.Id("dst"), jen.LitRune(']'))))
	f.Add(doc("AppendJSON appends the wire JSON array of v to dst."))
	f.Func().Params(jen.Id("v").Op("*").Id(t.GoName)).Id("AppendJSON").Params(jen.Id("dst").Index().Byte()).Index().Byte().Block(body...).Line()
}

// encodeField returns statements that append target's value to dst.
func (e *emitter) encodeField(fd *FieldModel, target *jen.Statement) []jen.Code {
	switch {
	case fd.Type.Slice && fd.Nullable:
		return []jen.Code{jen.If(target.Clone().Op("==").Nil()).Block(e.appendNull()).Else().Block(e.encodeSlice(target, fd.Type)...)}
	case fd.Type.Slice:
		return e.encodeSlice(target, fd.Type)
	case fd.Pointer:
		return []jen.Code{jen.If(target.Clone().Op("==").Nil()).Block(e.appendNull()).Else().Block(
			e.encodeValue(fd.Type, jen.Parens(jen.Op("*").Add(target.Clone())))...)}
	}
	return e.encodeValue(fd.Type, target)
}

func (e *emitter) appendNull() jen.Code {
	return jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.Lit("null").Op("..."))
}

func (e *emitter) encodeSlice(target *jen.Statement, t FieldType) []jen.Code {
	one := t
	one.Slice = false
	return []jen.Code{
		jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.LitRune('[')),
		jen.For(jen.Id("i").Op(":=").Range().Add(target.Clone())).Block(append([]jen.Code{
			jen.If(jen.Id("i").Op(">").Lit(0)).Block(jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.LitRune(',')))},
			e.encodeValue(one, target.Clone().Index(jen.Id("i")))...)...),
		jen.Id("dst").Op("=").Append(jen.Id("dst"), jen.LitRune(']')),
	}
}

// encodeValue returns the statement that appends one non-slice value.
func (e *emitter) encodeValue(t FieldType, target *jen.Statement) []jen.Code {
	app := func(fn string, v jen.Code) []jen.Code {
		return []jen.Code{jen.Id("dst").Op("=").Qual(wirePkg, fn).Call(jen.Id("dst"), v)}
	}
	switch {
	case t.Struct != nil:
		return []jen.Code{jen.Id("dst").Op("=").Add(target.Clone()).Dot("AppendJSON").Call(jen.Id("dst"))}
	case t.Enum != nil:
		return app("AppendString", jen.String().Call(target.Clone()))
	}
	switch t.Scalar {
	case "string":
		return app("AppendString", target.Clone())
	case "bool":
		return app("AppendBool", target.Clone())
	case "int":
		if t.JSON == "string" {
			return app("AppendIntString", target.Clone())
		}
		return app("AppendInt", target.Clone())
	case "uint":
		return app("AppendUint", target.Clone())
	case "float":
		return app("AppendFloat", target.Clone())
	case "decimal":
		if t.JSON == "number" {
			return app("AppendDecimalNumber", target.Clone())
		}
		return app("AppendDecimal", target.Clone())
	case "raw":
		return app("AppendRaw", target.Clone())
	}
	return app("AppendInt", jen.Int64().Call(target.Clone()))
}

package gen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// subscribe emits, per stream, its Stream method (what the runtime needs:
// name, routing key, message variables, decoder) and a Subscribe<Stream>
// helper; then a Subscribe for any StreamParams, and one decoder function
// per payload type. The helpers only validate, describe the stream and
// adapt types; the connection work is the runtime.Source's: a
// *runtime.Conn, or any other source of the same payloads.
func (e *emitter) subscribe(f *jen.File) {
	ctx := jen.Id("ctx").Qual("context", "Context")
	conn := jen.Id("c").Qual(runtimePkg, "Source") // a *runtime.Conn, or any other Source
	opts := jen.Id("opts").Op("...").Qual(runtimePkg, "SubscribeOption")
	result := []jen.Code{jen.Op("*").Qual(runtimePkg, "Subscription"), jen.Error()}

	seqs := e.seqFuncs(f)
	decoders := map[string]bool{}
	for _, s := range e.m.Streams {
		typ := "*" + s.PayloadGoType()
		dec := "decode" + s.PayloadGoType()
		if g := s.Dispatch; g != nil {
			typ, dec = "Payload", "decode"+g.GoName+"Frame"
		}
		if !decoders[dec] {
			decoders[dec] = true
			decoderFunc(f, s, dec)
		}
		e.streamMethod(f, s, dec, seqs[s].seq, seqs[s].raw)

		what := "each " + strings.TrimPrefix(typ, "*")
		if s.Dispatch != nil {
			what = fmt.Sprintf("each event of the %s group (see Decode%s)", s.Dispatch.Name, s.Dispatch.GoName)
		}
		f.Add(doc(fmt.Sprintf("Subscribe%s subscribes c to the %s stream (%s) and calls fn with %s, in the order received, on the subscription's goroutine. c is a *runtime.Conn or any other runtime.Source. It returns once the request is queued; Ready waits for the confirmation (see runtime.Conn.Subscribe). A nil fn is an error; p is validated before anything is sent.",
			s.GoName, s.Name, s.Template.Text, what), deprecated(s.Deprecated)))
		var arg, assert jen.Code = jen.Op("*").Id(s.PayloadGoType()), jen.Op("*").Id(s.PayloadGoType())
		if s.Dispatch != nil {
			arg, assert = jen.Id("Payload"), jen.Id("Payload")
		}
		f.Func().Id("Subscribe"+s.GoName).Params(ctx.Clone(), conn.Clone(), jen.Id("p").Id(s.GoName+"Params"),
			jen.Id("fn").Func().Params(arg), opts.Clone()).Params(result...).Block(
			e.nilHandler("Subscribe"+s.GoName),
			jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("c").Dot("Subscribe").Call(jen.Id("ctx"), jen.Id("p").Dot("Stream").Call(),
				jen.Func().Params(jen.Id("v").Any()).Block(jen.Id("fn").Call(jen.Id("v").Assert(assert))), jen.Id("opts").Op("..."))),
		)
	}

	f.Add(doc("Subscribe subscribes c to the stream p names and calls fn with each payload; use it when the stream is chosen at run time (for example from ParseStream). A nil fn is an error; p is validated before anything is sent."))
	f.Func().Id("Subscribe").Params(ctx, conn, jen.Id("p").Id("StreamParams"), jen.Id("fn").Func().Params(jen.Id("Payload")), opts).Params(result...).Block(
		e.nilHandler("Subscribe"),
		jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("c").Dot("Subscribe").Call(jen.Id("ctx"), jen.Id("p").Dot("Stream").Call(),
			jen.Func().Params(jen.Id("v").Any()).Block(jen.Id("fn").Call(jen.Id("v").Assert(jen.Id("Payload")))), jen.Id("opts").Op("..."))),
	)

	f.Add(doc("SubscribeAll subscribes c to every stream of ps and returns once the exchange has confirmed or refused each one (see runtime.Conn.SubscribeAll); the streams share subscribe messages and connections as the market's limits allow. fn is called with each payload on each subscription's goroutine, so concurrently for different streams. A nil fn is an error; every p is validated before anything is sent."))
	f.Func().Id("SubscribeAll").Params(ctx.Clone(), conn.Clone(), jen.Id("ps").Index().Id("StreamParams"), jen.Id("fn").Func().Params(jen.Id("Payload")), opts.Clone()).Params(jen.Index().Op("*").Qual(runtimePkg, "Subscription"), jen.Error()).Block(
		e.nilHandler("SubscribeAll"),
		jen.Id("streams").Op(":=").Make(jen.Index().Qual(runtimePkg, "Stream"), jen.Len(jen.Id("ps"))),
		jen.For(jen.List(jen.Id("i"), jen.Id("p")).Op(":=").Range().Id("ps")).Block(
			jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Id("streams").Index(jen.Id("i")).Op("=").Id("p").Dot("Stream").Call(),
		),
		jen.Return(jen.Id("c").Dot("SubscribeAll").Call(jen.Id("ctx"), jen.Id("streams"),
			jen.Func().Params(jen.Id("v").Any()).Block(jen.Id("fn").Call(jen.Id("v").Assert(jen.Id("Payload")))), jen.Id("opts").Op("..."))),
	)
}

// nilHandler is the first statement of a Subscribe helper: a nil fn would
// only panic later, on the subscription's goroutine.
func (e *emitter) nilHandler(fn string) jen.Code {
	return jen.If(jen.Id("fn").Op("==").Nil()).Block(
		jen.Return(jen.Nil(), jen.Qual("errors", "New").Call(jen.Lit(e.m.Name+": "+fn+": nil handler"))))
}

// decoderFunc emits the runtime.Decoder of a stream's payload type, or of
// its dispatch group for streams decoded whole.
func decoderFunc(f *jen.File, s *StreamModel, name string) {
	if g := s.Dispatch; g != nil {
		f.Add(doc(fmt.Sprintf("%s is the runtime.Decoder of whole %s frames.", name, g.Name)))
		f.Func().Id(name).Params(jen.Id("data").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
			jen.List(jen.Id("v"), jen.Err()).Op(":=").Id("Decode"+g.GoName).Call(jen.Id("data")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("v"), jen.Nil()),
		)
		return
	}
	typ := s.PayloadGoType()
	f.Add(doc(fmt.Sprintf("%s is the runtime.Decoder of %s payloads. Strings and decimals alias data, which the runtime never modifies.", name, typ)))
	f.Func().Id(name).Params(jen.Id("data").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
		jen.Id("v").Op(":=").New(jen.Id(typ)),
		jen.If(jen.Err().Op(":=").Id("v").Dot("unmarshalJSON").Call(jen.Id("data"), jen.True(), jen.Nil()), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("v"), jen.Nil()),
	)

	// The stateful decoder a socket uses: values from a slab, slices of
	// the payload's first slice type from another.
	dt := lowerFirst(typ) + "Decoder"
	fields := []jen.Code{jen.Id("values").Qual(wirePkg, "Slab").Types(jen.Id(typ))}
	slab := jen.Nil()
	if el := sliceElem(s); el != "" {
		fields = append(fields, jen.Id("slices").Qual(wirePkg, "Slab").Types(jen.Id(el)))
		slab = jen.Op("&").Id("x").Dot("slices")
	}
	f.Add(doc(fmt.Sprintf("%s is the runtime.StreamDecoder of %s payloads: it decodes as %s does, new values and their slices carved from slabs (see wire.Slab).", dt, typ, name)))
	f.Type().Id(dt).Struct(fields...)
	f.Add(doc("Decode implements runtime.StreamDecoder."))
	f.Func().Params(jen.Id("x").Op("*").Id(dt)).Id("Decode").Params(jen.Id("data").Index().Byte(), jen.Id("reuse").Any()).Params(jen.Any(), jen.Error()).Block(
		jen.List(jen.Id("v"), jen.Id("_")).Op(":=").Id("reuse").Assert(jen.Op("*").Id(typ)),
		jen.If(jen.Id("v").Op("==").Nil()).Block(jen.Id("v").Op("=").Id("x").Dot("values").Dot("New").Call()),
		jen.If(jen.Err().Op(":=").Id("v").Dot("unmarshalJSON").Call(jen.Id("data"), jen.True(), slab), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("v"), jen.Nil()),
	)
	f.Add(doc(fmt.Sprintf("new%sDecoder is the runtime.Stream NewDecoder of %s payloads.", typ, typ)))
	f.Func().Id("new"+typ+"Decoder").Params().Qual(runtimePkg, "StreamDecoder").Block(jen.Return(jen.New(jen.Id(dt))))
}

// sliceElem returns the Go type of the elements of s's payload when it is an
// array, else of its first field that is a slice of objects or tuples, or
// "" when it has none.
func sliceElem(s *StreamModel) string {
	if s.Array {
		return s.Payload.GoName
	}
	for _, fd := range s.Payload.Fields {
		if fd.Type.Slice && fd.Type.Struct != nil {
			return fd.Type.Struct.GoName
		}
	}
	return ""
}

// streamMethod emits <Stream>Params.Stream.
func (e *emitter) streamMethod(f *jen.File, s *StreamModel, dec, seq, seqRaw string) {
	body := defaults(s)
	dict := jen.Dict{
		jen.Id("Name"):   jen.Id("p").Dot("StreamName").Call(),
		jen.Id("Decode"): jen.Id(dec),
	}
	if s.Dispatch == nil {
		dict[jen.Id("NewDecoder")] = jen.Id("new" + s.PayloadGoType() + "Decoder")
	}
	if seq != "" {
		dict[jen.Id("Seq")] = jen.Id(seq)
	}
	if seqRaw != "" {
		dict[jen.Id("SeqRaw")] = jen.Id(seqRaw)
	}
	dict[jen.Id("Deferred")] = jen.True()
	if s.Route != "" {
		dict[jen.Id("Route")] = jen.Lit(s.Route)
	}
	if s.Key != nil {
		stmts, expr := templateCode(s, s.Key, "key")
		body = append(body, stmts...)
		dict[jen.Id("Key")] = expr
	}
	vars := jen.Dict{}
	for _, p := range s.Params {
		vars[jen.Lit(p.Name)] = paramValue(p)
	}
	for _, v := range s.Vars {
		stmts, expr := templateCode(s, v.Template, "var"+GoName(v.Name))
		body = append(body, stmts...)
		vars[jen.Lit(v.Name)] = expr
	}
	if len(vars) > 0 {
		dict[jen.Id("Vars")] = jen.Map(jen.String()).String().Values(vars)
	}
	if s.Auth {
		dict[jen.Id("Auth")] = jen.True()
	}
	if s.Dispatch != nil {
		dict[jen.Id("Whole")] = jen.True()
	}
	body = append(body, jen.Return(jen.Qual(runtimePkg, "Stream").Values(dict)))
	f.Add(doc("Stream returns what the runtime needs to subscribe: name, routing key, message variables and decoder. It does not validate."))
	f.Func().Params(jen.Id("p").Id(s.GoName+"Params")).Id("Stream").Params().Qual(runtimePkg, "Stream").Block(body...)
}

// dialectCode writes a runtime.Dialect literal with the set fields.
func dialectCode(d *Dialect) jen.Code {
	dict := jen.Dict{}
	str := func(name, v string) {
		if v != "" {
			dict[jen.Id(name)] = jen.Lit(v)
		}
	}
	strs := func(name string, list []string) {
		if len(list) > 0 {
			var items []jen.Code
			for _, v := range list {
				items = append(items, jen.Lit(v))
			}
			dict[jen.Id(name)] = jen.Index().String().Values(items...)
		}
	}
	matches := func(name string, list []string) {
		if len(list) > 0 {
			var items []jen.Code
			for _, m := range list {
				member, value := splitMatch(m)
				item := jen.Dict{jen.Id("Member"): jen.Lit(member)}
				if value != "" {
					item[jen.Id("Value")] = jen.Lit(value)
				}
				items = append(items, jen.Values(item))
			}
			dict[jen.Id(name)] = jen.Index().Qual(runtimePkg, "Match").Values(items...)
		}
	}
	str("Path", d.Path)
	str("RawPath", d.RawPath)
	strs("Subscribe", d.Subscribe)
	strs("Unsubscribe", d.Unsubscribe)
	if d.Batch > 0 {
		dict[jen.Id("Batch")] = jen.Lit(d.Batch)
	}
	str("Request", d.Request)
	str("ReplyID", d.ReplyID)
	str("Result", d.Result)
	matches("Ack", d.Ack)
	matches("Errors", d.Errors)
	var parts []jen.Code
	for _, part := range d.Key {
		var alts []jen.Code
		for _, p := range part {
			alts = append(alts, jen.Lit(p))
		}
		parts = append(parts, jen.Values(alts...))
	}
	dict[jen.Id("Key")] = jen.Index().Index().String().Values(parts...)
	str("Data", d.Data)
	matches("Shutdown", d.Shutdown)
	matches("Ignore", d.Ignore)
	if d.Unsolicited {
		dict[jen.Id("Unsolicited")] = jen.True()
	}
	if k := d.KeepAlive; k != nil {
		str("KeepAlive", k.Message)
		dict[jen.Id("KeepAliveEvery")] = durationCode(duration(k.Every))
	}
	if d.ProbePing {
		dict[jen.Id("ProbePing")] = jen.True()
	}
	str("Probe", d.Probe)
	if a := d.Auth; a != nil {
		str("Auth", a.Message)
		matches("AuthOK", a.OK)
	}
	return jen.Qual(runtimePkg, "Dialect").Values(dict)
}

// seqNames are the names of a stream's sequence key functions: Seq, and
// SeqRaw where the key can be read from the payload's bytes ("" otherwise).
type seqNames struct{ seq, raw string }

// seqFuncs emits the Seq (and SeqRaw) functions of the market's streams,
// one per distinct payload type and key, and returns each stream's function
// names (none for streams of kind none).
func (e *emitter) seqFuncs(f *jen.File) map[*StreamModel]seqNames {
	names := map[*StreamModel]seqNames{}
	byCombo := map[string]seqNames{}
	used := map[string]bool{}
	for _, s := range e.m.Streams {
		q := s.Sequence
		if q.Kind == "none" || q.Kind == "" {
			continue
		}
		base := s.PayloadGoType()
		if s.Dispatch != nil {
			base = s.Dispatch.GoName + "Frame"
		}
		combo := strings.Join([]string{base, q.Kind, q.First, q.Last, q.Prev}, "\x00")
		if n, ok := byCombo[combo]; ok {
			names[s] = n
			continue
		}
		name := "seq" + base
		if used[name] {
			name += s.GoName
		}
		n := seqNames{seq: name}
		e.seqFunc(f, s, name)
		if seqRawApplies(s) {
			n.raw = "seqRaw" + strings.TrimPrefix(name, "seq")
			e.seqRawFunc(f, s, n.raw)
		}
		used[name], byCombo[combo], names[s] = true, n, n
	}
	return names
}

// seqRawApplies reports whether s gets a SeqRaw function: its payload is
// one object (not an array, not a dispatch group's frame) whose sequence
// keys are members at its top level. The runtime decodes the other streams
// on the socket's reader to read their key.
func seqRawApplies(s *StreamModel) bool {
	if s.Dispatch != nil || s.Array || s.Payload.Tuple {
		return false
	}
	q := s.Sequence
	for _, k := range []string{q.First, q.Last, q.Prev} {
		if strings.Contains(k, ".") {
			return false
		}
	}
	return true
}

// seqRawFunc emits one SeqRaw function: it reads the payload's top-level
// members up to the last sequence key, decoding the keys as the payload's
// decoder does and skipping the rest, and returns the key as Seq would.
func (e *emitter) seqRawFunc(f *jen.File, s *StreamModel, name string) {
	q, t := s.Sequence, s.Payload
	var keys []string
	for _, k := range []string{q.First, q.Last, q.Prev} {
		if k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	var cases []jen.Code
	for i, k := range keys {
		var fd *FieldModel
		for _, c := range t.Fields {
			if c.Key == k {
				fd = c
			}
		}
		body := []jen.Code{jen.Id("seen").Op("|=").Lit(1 << i)}
		body = append(body, e.decodeValue(fd.Type, jen.Id("e").Dot(fd.GoName))...)
		cases = append(cases, jen.Case(jen.Lit(k)).Block(body...))
	}
	cases = append(cases, jen.Default().Block(jen.Err().Op("=").Id("d").Dot("Skip").Call()))
	var keyLits []jen.Code
	for _, k := range keys {
		keyLits = append(keyLits, jen.Lit(k))
	}
	none := jen.Qual(runtimePkg, "Seq").Values()
	f.Add(doc(fmt.Sprintf("%s is the runtime.Stream SeqRaw of %s: the key of %s, read from the payload's members up to %s without decoding the others.",
		name, t.GoName, strings.Replace(name, "seqRaw", "seq", 1), strings.Join(quoted(keys), ", "))))
	f.Func().Id(name).Params(jen.Id("data").Index().Byte()).Params(jen.Qual(runtimePkg, "Seq"), jen.Error()).Block(
		jen.Var().Id("d").Qual(wirePkg, "Decoder"),
		jen.Id("d").Dot("ResetShared").Call(jen.Id("data")),
		jen.If(jen.Err().Op(":=").Id("d").Dot("ObjectStart").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(none.Clone(), jen.Err())),
		jen.Var().Id("e").Id(t.GoName),
		jen.Id("seen").Op(":=").Lit(0),
		jen.For(jen.Id("seen").Op("!=").Lit(1<<len(keys)-1)).Block(
			jen.List(jen.Id("key"), jen.Id("ok"), jen.Err()).Op(":=").Id("d").Dot("NextKey").Call(),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(none.Clone(), jen.Err())),
			jen.If(jen.Op("!").Id("ok")).Block(jen.Return(none.Clone(),
				e.fieldError(t.ErrName, jen.Index(jen.Lit(len(keys))).String().Values(keyLits...).Index(
					jen.Qual("math/bits", "TrailingZeros").Call(jen.Id("uint").Call(jen.Op("^").Id("seen")))), jen.Qual(wirePkg, "ErrMissing")))),
			jen.Switch(jen.Id("key")).Block(cases...),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(none.Clone(), e.fieldError(t.ErrName, jen.Id("key"), jen.Err()))),
		),
		jen.Return(seqLiteral(q, t, jen.Id("e")), jen.Nil()),
	).Line()
}

// quoted returns each of list in double quotes.
func quoted(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}

// seqFunc emits one Seq function: a type assertion (or, for a stream
// decoded whole, a type switch over its dispatch group) and the key read
// from the fields; over an array payload, First is the least first key of
// its elements and Last the greatest last key.
func (e *emitter) seqFunc(f *jen.File, s *StreamModel, name string) {
	q := s.Sequence
	kind := jen.Qual(runtimePkg, seqKinds[q.Kind])
	what := fmt.Sprintf("%s, %s", q.Kind, seqKeysText(q))
	seq := func(t *TypeModel, v *jen.Statement) jen.Code { return seqLiteral(q, t, v) }
	var body []jen.Code
	switch {
	case s.Dispatch != nil:
		what = fmt.Sprintf("frames of the %s group (%s); a kind the schema does not know has only the kind", s.Dispatch.Name, what)
		var cases []jen.Code
		types := []*TypeModel{s.Payload}
		if g := s.Dispatch; g.Default != nil && g.Default != s.Payload {
			types = append(types, g.Default)
		}
		for _, t := range s.Dispatch.Types {
			if t != s.Payload && t != s.Dispatch.Default {
				types = append(types, t)
			}
		}
		for _, t := range types {
			cases = append(cases, jen.Case(jen.Op("*").Id(t.GoName)).Block(jen.Return(seq(t, jen.Id("e")))))
		}
		body = []jen.Code{
			jen.Switch(jen.Id("e").Op(":=").Id("v").Assert(jen.Type())).Block(cases...),
			jen.Return(jen.Qual(runtimePkg, "Seq").Values(jen.Dict{jen.Id("Kind"): kind.Clone()})),
		}
	case s.Array:
		what = fmt.Sprintf("%s; the least first and the greatest last of the elements", what)
		t := s.Payload
		body = []jen.Code{
			jen.Id("list").Op(":=").Op("*").Id("v").Assert(jen.Op("*").Id(s.PayloadGoType())),
			jen.Id("seq").Op(":=").Qual(runtimePkg, "Seq").Values(jen.Dict{jen.Id("Kind"): kind.Clone()}),
			jen.For(jen.Id("i").Op(":=").Range().Id("list")).Block(
				jen.Id("e").Op(":=").Op("&").Id("list").Index(jen.Id("i")),
				jen.List(jen.Id("first"), jen.Id("last")).Op(":=").List(seqValue(t, q.First, jen.Id("e")), seqValue(t, q.Last, jen.Id("e"))),
				jen.If(jen.Id("i").Op("==").Lit(0).Op("||").Id("first").Op("<").Id("seq").Dot("First")).Block(jen.Id("seq").Dot("First").Op("=").Id("first")),
				jen.If(jen.Id("i").Op("==").Lit(0).Op("||").Id("last").Op(">").Id("seq").Dot("Last")).Block(jen.Id("seq").Dot("Last").Op("=").Id("last")),
			),
			jen.Return(jen.Id("seq")),
		}
	default:
		body = []jen.Code{
			jen.Id("e").Op(":=").Id("v").Assert(jen.Op("*").Id(s.Payload.GoName)),
			jen.Return(seq(s.Payload, jen.Id("e"))),
		}
	}
	f.Add(doc(fmt.Sprintf("%s is the runtime.Stream Seq of %s: %s.", name, s.PayloadGoType(), what)))
	f.Func().Id(name).Params(jen.Id("v").Any()).Qual(runtimePkg, "Seq").Block(body...)
}

// seqLiteral is the runtime.Seq of key q read from v, a *t.
func seqLiteral(q SeqModel, t *TypeModel, v *jen.Statement) jen.Code {
	fields := []jen.Code{
		jen.Id("Kind").Op(":").Qual(runtimePkg, seqKinds[q.Kind]),
		jen.Id("First").Op(":").Add(seqValue(t, q.First, v)),
		jen.Id("Last").Op(":").Add(seqValue(t, q.Last, v)),
	}
	if q.Prev != "" {
		fields = append(fields, jen.Id("Prev").Op(":").Add(seqValue(t, q.Prev, v)))
	}
	return jen.Qual(runtimePkg, "Seq").Values(fields...)
}

// seqKeysText describes a sequence's keys for a doc comment.
func seqKeysText(q SeqModel) string {
	var parts []string
	if q.First == q.Last {
		parts = append(parts, fmt.Sprintf("id %q", q.First))
	} else {
		parts = append(parts, fmt.Sprintf("first %q", q.First), fmt.Sprintf("last %q", q.Last))
	}
	if q.Prev != "" {
		parts = append(parts, fmt.Sprintf("prev %q", q.Prev))
	}
	return strings.Join(parts, ", ")
}

// seqValue is the int64 value of a sequence key path of t, read from v (a
// pointer to t); time fields are converted to milliseconds.
func seqValue(t *TypeModel, path string, v *jen.Statement) jen.Code {
	x := v.Clone()
	var fd *FieldModel
	for _, part := range strings.Split(path, ".") {
		fd = nil
		if t.Tuple {
			n, _ := strconv.Atoi(part) // validated
			fd = t.Fields[n]
		} else {
			for _, c := range t.Fields {
				if c.Key == part {
					fd = c
				}
			}
		}
		x = x.Dot(fd.GoName)
		t = fd.Type.Struct
	}
	switch fd.Type.Scalar {
	case "int":
		return x
	case "uint":
		return jen.Int64().Call(x)
	}
	out := jen.Int64().Call(x)
	sc := timeScale[fd.Type.Scalar]
	if sc.mul != 1 {
		out = out.Op("*").Lit(int(sc.mul))
	}
	if sc.div != 1 {
		out = out.Op("/").Lit(int(sc.div))
	}
	return out
}

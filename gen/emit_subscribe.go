package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// subscribe emits, per stream, its Stream method (what the runtime needs:
// name, routing key, message variables, decoder) and a Subscribe<Stream>
// helper; then a Subscribe for any StreamParams, and one decoder function
// per payload type. The helpers only validate, describe the stream and
// adapt types; the connection work is runtime.Conn's.
func (e *emitter) subscribe(f *jen.File) {
	ctx := jen.Id("ctx").Qual("context", "Context")
	conn := jen.Id("c").Op("*").Qual(runtimePkg, "Conn")
	opts := jen.Id("opts").Op("...").Qual(runtimePkg, "SubscribeOption")
	result := []jen.Code{jen.Op("*").Qual(runtimePkg, "Subscription"), jen.Error()}

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
		e.streamMethod(f, s, dec)

		what := "each " + strings.TrimPrefix(typ, "*")
		if s.Dispatch != nil {
			what = fmt.Sprintf("each event of the %s group (see Decode%s)", s.Dispatch.Name, s.Dispatch.GoName)
		}
		f.Add(doc(fmt.Sprintf("Subscribe%s subscribes c to the %s stream (%s) and calls fn with %s, in the order received, on the subscription's goroutine. A nil fn is an error; p is validated before anything is sent.",
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
	f.Add(doc(fmt.Sprintf("%s is the runtime.Decoder of %s payloads.", name, typ)))
	f.Func().Id(name).Params(jen.Id("data").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
		jen.Id("v").Op(":=").New(jen.Id(typ)),
		jen.If(jen.Err().Op(":=").Id("v").Dot("UnmarshalJSON").Call(jen.Id("data")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("v"), jen.Nil()),
	)
}

// streamMethod emits <Stream>Params.Stream.
func (e *emitter) streamMethod(f *jen.File, s *StreamModel, dec string) {
	body := defaults(s)
	dict := jen.Dict{
		jen.Id("Name"):   jen.Id("p").Dot("StreamName").Call(),
		jen.Id("Decode"): jen.Id(dec),
	}
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

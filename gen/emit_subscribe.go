package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// subscribe emits one Subscribe<Stream> helper per stream, a Subscribe for
// any StreamParams, and one decoder function per payload type. The helpers
// only validate, name the stream and adapt types; the connection work is
// runtime.Conn's.
func (e *emitter) subscribe(f *jen.File) {
	ctx := jen.Id("ctx").Qual("context", "Context")
	conn := jen.Id("c").Op("*").Qual(runtimePkg, "Conn")
	opts := jen.Id("opts").Op("...").Qual(runtimePkg, "SubscribeOption")
	result := []jen.Code{jen.Op("*").Qual(runtimePkg, "Subscription"), jen.Error()}

	decoders := map[string]bool{}
	for _, s := range e.m.Streams {
		typ := s.PayloadGoType()
		dec := "decode" + typ
		if !decoders[typ] {
			decoders[typ] = true
			f.Add(doc(fmt.Sprintf("%s is the runtime.Decoder of %s payloads.", dec, typ)))
			f.Func().Id(dec).Params(jen.Id("data").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
				jen.Id("v").Op(":=").New(jen.Id(typ)),
				jen.If(jen.Err().Op(":=").Id("v").Dot("UnmarshalJSON").Call(jen.Id("data")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				jen.Return(jen.Id("v"), jen.Nil()),
			)
		}
		f.Add(doc(fmt.Sprintf("Subscribe%s subscribes c to the %s stream (%s) and calls fn with each %s, in the order received, on the subscription's goroutine. p is validated before anything is sent.",
			s.GoName, s.Name, s.Template.Text, typ), deprecated(s.Deprecated)))
		f.Func().Id("Subscribe"+s.GoName).Params(ctx.Clone(), conn.Clone(), jen.Id("p").Id(s.GoName+"Params"),
			jen.Id("fn").Func().Params(jen.Op("*").Id(typ)), opts.Clone()).Params(result...).Block(
			jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Id("s").Op(":=").Qual(runtimePkg, "Stream").Values(jen.Dict{
				jen.Id("Name"): jen.Id("p").Dot("StreamName").Call(), jen.Id("Route"): jen.Lit(s.Route), jen.Id("Decode"): jen.Id(dec),
			}),
			jen.Return(jen.Id("c").Dot("Subscribe").Call(jen.Id("ctx"), jen.Id("s"),
				jen.Func().Params(jen.Id("v").Any()).Block(jen.Id("fn").Call(jen.Id("v").Assert(jen.Op("*").Id(typ)))), jen.Id("opts").Op("..."))),
		)
	}

	f.Add(doc("Subscribe subscribes c to the stream p names and calls fn with each payload; use it when the stream is chosen at run time (for example from ParseStream). p is validated before anything is sent."))
	f.Func().Id("Subscribe").Params(ctx, conn, jen.Id("p").Id("StreamParams"), jen.Id("fn").Func().Params(jen.Id("Payload")), opts).Params(result...).Block(
		jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("s").Op(":=").Qual(runtimePkg, "Stream").Values(jen.Dict{
			jen.Id("Name"): jen.Id("p").Dot("StreamName").Call(), jen.Id("Route"): jen.Id("p").Dot("Route").Call(),
			jen.Id("Decode"): jen.Func().Params(jen.Id("data").Index().Byte()).Params(jen.Any(), jen.Error()).Block(
				jen.Id("v").Op(":=").Id("p").Dot("NewPayload").Call(),
				jen.If(jen.Err().Op(":=").Id("v").Dot("UnmarshalJSON").Call(jen.Id("data")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				jen.Return(jen.Id("v"), jen.Nil()),
			),
		}),
		jen.Return(jen.Id("c").Dot("Subscribe").Call(jen.Id("ctx"), jen.Id("s"),
			jen.Func().Params(jen.Id("v").Any()).Block(jen.Id("fn").Call(jen.Id("v").Assert(jen.Id("Payload")))), jen.Id("opts").Op("..."))),
	)
}

package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/marketwire/marketwire/wire"
)

// streams emits, for every stream, its parameter type with Validate,
// StreamName, Route and NewPayload, and a parser from the wire name; then
// ParseStream and Decode for the whole market.
func (e *emitter) streams(f *jen.File) {
	var parsers []jen.Code
	for _, s := range e.m.Streams {
		e.stream(f, s)
		parsers = append(parsers, jen.Id("parse"+s.GoName))
	}

	f.Add(doc("parsers holds one parser per stream, in schema order; the first match wins."))
	f.Var().Id("parsers").Op("=").Index().Func().Params(jen.String()).Params(jen.Id("StreamParams"), jen.Bool()).Values(parsers...)

	f.Add(doc("ParseStream parses a wire stream name, as found in a combined-stream envelope, into the parameters of the stream it names. Symbols come back upper-case."))
	f.Func().Id("ParseStream").Params(jen.Id("name").String()).Params(jen.Id("StreamParams"), jen.Error()).Block(
		jen.For(jen.List(jen.Id("_"), jen.Id("parse")).Op(":=").Range().Id("parsers")).Block(
			jen.If(jen.List(jen.Id("p"), jen.Id("ok")).Op(":=").Id("parse").Call(jen.Id("name")), jen.Id("ok")).Block(jen.Return(jen.Id("p"), jen.Nil())),
		),
		jen.Return(jen.Nil(), jen.Op("&").Qual(wirePkg, "UnknownStreamError").Values(jen.Dict{jen.Id("Market"): jen.Lit(e.m.Name), jen.Id("Name"): jen.Id("name")})),
	)

	f.Add(doc("Decode decodes a payload received on the named stream into the stream's typed payload (recorded data, or a combined stream read by hand)."))
	f.Func().Id("Decode").Params(jen.Id("stream").String(), jen.Id("data").Index().Byte()).Params(jen.Id("Payload"), jen.Error()).Block(
		jen.List(jen.Id("p"), jen.Err()).Op(":=").Id("ParseStream").Call(jen.Id("stream")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("v").Op(":=").Id("p").Dot("NewPayload").Call(),
		jen.If(jen.Err().Op(":=").Id("v").Dot("UnmarshalJSON").Call(jen.Id("data")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Id("v"), jen.Nil()),
	)
	e.dispatch(f)
}

// dispatch emits Decode<Group> for every dispatch group.
func (e *emitter) dispatch(f *jen.File) {
	for _, g := range e.m.Dispatch {
		var cases []jen.Code
		for _, t := range g.Types {
			cases = append(cases, jen.Case(jen.Lit(t.Event)).Block(jen.Id("v").Op("=").New(jen.Id(t.GoName))))
		}
		scope := "driftGroup" + g.GoName
		f.Add(doc(fmt.Sprintf("%s counts the unknown event kinds of the %s group, and frames without its %q key (wire.DriftReport).", scope, g.Name, g.Key)))
		f.Var().Id(scope).Op("=").Qual(wirePkg, "DriftScope").Values(jen.Dict{jen.Id("Market"): jen.Lit(e.m.Name), jen.Id("Event"): jen.Lit(g.Name)})
		cases = append(cases, jen.Default().Block(jen.Return(
			jen.Id(scope).Dot("NewUnknownEvent").Call(jen.Id("kind"), jen.Id("payload")), jen.Nil())))
		fail := func(key string, err jen.Code) jen.Code {
			return jen.Return(jen.Nil(), jen.Id(scope).Dot("DecodeError").Call(jen.Lit(key), jen.Id("data"), err))
		}
		text := fmt.Sprintf("Decode%s decodes one event of the %s group (%s), choosing its type by the %q key", g.GoName, g.Name, strings.TrimSuffix(g.Doc, "."), g.Key)
		body := []jen.Code{
			jen.List(jen.Id("kind"), jen.Id("found"), jen.Err()).Op(":=").Qual(wirePkg, "LookupString").Call(jen.Id("data"), jen.Lit(g.Key)),
			jen.If(jen.Err().Op("!=").Nil()).Block(fail(g.Key, jen.Err())),
			jen.Id("payload").Op(":=").Id("data"),
		}
		if g.Data != "" {
			text += fmt.Sprintf(" and decoding the value of %q", g.Data)
			body = append(body,
				jen.List(jen.Id("inner"), jen.Id("ok"), jen.Err()).Op(":=").Qual(wirePkg, "LookupRaw").Call(jen.Id("data"), jen.Lit(g.Data)),
				jen.If(jen.Err().Op("!=").Nil()).Block(fail(g.Data, jen.Err())),
				jen.If(jen.Op("!").Id("ok")).Block(fail(g.Data, jen.Qual(wirePkg, "ErrMissing"))),
				jen.Id("payload").Op("=").Id("inner"),
			)
		}
		body = append(body, jen.Var().Id("v").Id("Payload"))
		missing := fail(g.Key, jen.Qual(wirePkg, "ErrMissing"))
		if g.Default != nil {
			text += fmt.Sprintf("; a frame without it is a %s", g.Default.GoName)
			missing = jen.Id("v").Op("=").New(jen.Id(g.Default.GoName))
		}
		body = append(body,
			jen.If(jen.Op("!").Id("found")).Block(missing).Else().Block(jen.Switch(jen.Id("kind")).Block(cases...)),
			jen.If(jen.Err().Op(":=").Id("v").Dot("UnmarshalJSON").Call(jen.Id("payload")), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(jen.Id("v"), jen.Nil()),
		)
		f.Add(doc(text + ". A kind the schema does not know comes back as a *wire.UnknownEvent holding the raw payload, not as an error, and is counted in the drift report (wire.DriftReport)."))
		f.Func().Id("Decode"+g.GoName).Params(jen.Id("data").Index().Byte()).Params(jen.Id("Payload"), jen.Error()).Block(body...)
	}
}

func (e *emitter) stream(f *jen.File, s *StreamModel) {
	typ := s.GoName + "Params"
	recv := jen.Id("p").Id(typ)

	// The parameter type.
	facts := fmt.Sprintf("Stream name: %s. Payload: %s.", s.Template.Text, s.PayloadGoType())
	if s.Speed != "" {
		facts += " Update speed: " + s.Speed + "."
	}
	if s.Route != "" {
		facts += " Route: /" + s.Route + "."
	}
	f.Add(doc(fmt.Sprintf("%s selects the %s stream. %s", typ, s.Name, s.Doc), facts, "Source: "+s.Source+".", deprecated(s.Deprecated)))
	var fields []jen.Code
	for _, p := range s.Params {
		text := p.Doc
		switch {
		case p.Optional:
			text += " Optional: leave empty to omit."
		case p.Default != "":
			text += fmt.Sprintf(" Empty means %q.", p.Default)
		}
		fields = append(fields, doc(text), jen.Id(p.GoName).Add(paramType(p)))
	}
	f.Type().Id(typ).Struct(fields...)

	// Validate.
	var checks []jen.Code
	for _, p := range s.Params {
		checks = append(checks, e.check(s, p)...)
	}
	checks = append(checks, jen.Return(jen.Nil()))
	f.Add(doc("Validate reports the first invalid parameter, naming it and the values it allows."))
	f.Func().Params(recv.Clone()).Id("Validate").Params().Error().Block(checks...)

	// StreamName.
	f.Add(doc("StreamName returns the wire stream name. It does not validate; call Validate first (the Subscribe helpers do)."))
	f.Func().Params(recv.Clone()).Id("StreamName").Params().String().Block(e.buildName(s)...)

	f.Add(doc("Route returns the URL route the stream is served on, or \"\" when the market has no routes."))
	f.Func().Params(jen.Id(typ)).Id("Route").Params().String().Block(jen.Return(jen.Lit(s.Route)))

	f.Add(doc("Kind returns the stream's schema name."))
	f.Func().Params(jen.Id(typ)).Id("Kind").Params().String().Block(jen.Return(jen.Lit(s.Name)))

	f.Add(doc(fmt.Sprintf("NewPayload returns a new, empty %s.", s.PayloadGoType())))
	f.Func().Params(jen.Id(typ)).Id("NewPayload").Params().Id("Payload").Block(jen.Return(jen.New(jen.Id(s.PayloadGoType()))))

	// The parser.
	tmplVar := lowerFirst(s.GoName) + "Template"
	f.Var().Id(tmplVar).Op("=").Qual(wirePkg, "MustTemplate").Call(jen.Lit(s.Template.Text))
	var accept []jen.Code
	values := jen.Dict{}
	for i, name := range s.Template.Params() {
		p := s.param(name)
		if ok := e.accepts(s, p, jen.Id("value")); ok != nil {
			accept = append(accept, jen.Case(jen.Lit(name)).Block(jen.Return(ok)))
		}
		var v jen.Code = jen.Id("v").Index(jen.Lit(i))
		switch p.Type {
		case "symbol":
			v = jen.Qual("strings", "ToUpper").Call(v)
		case "enum":
			v = jen.Id(p.Enum.GoName).Call(v)
		}
		values[jen.Id(p.GoName)] = v
	}
	var matchArgs = []jen.Code{jen.Id("name"), jen.Nil()}
	if len(accept) > 0 {
		matchArgs[1] = jen.Func().Params(jen.List(jen.Id("param"), jen.Id("value")).String()).Bool().Block(
			jen.Switch(jen.Id("param")).Block(accept...),
			jen.Return(jen.True()),
		)
	}
	result := jen.Id(typ).Values(values)
	var body []jen.Code
	if len(s.Template.Params()) == 0 {
		body = []jen.Code{jen.Return(result, jen.Id("name").Op("==").Lit(s.Template.Text))}
	} else {
		body = []jen.Code{
			jen.List(jen.Id("v"), jen.Id("ok")).Op(":=").Id(tmplVar).Dot("Match").Call(matchArgs...),
			jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Nil(), jen.False())),
			jen.Return(result, jen.True()),
		}
	}
	f.Func().Id("parse"+s.GoName).Params(jen.Id("name").String()).Params(jen.Id("StreamParams"), jen.Bool()).Block(body...).Line()

	for _, p := range s.Params {
		if p.Pattern != "" {
			f.Var().Id(patternVar(s, p)).Op("=").Qual("regexp", "MustCompile").Call(jen.Lit(p.Pattern))
		}
	}
}

func paramType(p *ParamModel) jen.Code {
	if p.Enum != nil {
		return jen.Id(p.Enum.GoName)
	}
	return jen.String()
}

func patternVar(s *StreamModel, p *ParamModel) string {
	return lowerFirst(s.GoName) + p.GoName + "Pattern"
}

// check returns the statements of Validate for one parameter.
func (e *emitter) check(s *StreamModel, p *ParamModel) []jen.Code {
	field := jen.Id("p").Dot(p.GoName)
	paramErr := func(err jen.Code) jen.Code {
		return jen.Return(jen.Op("&").Qual(wirePkg, "ParamError").Values(jen.Dict{
			jen.Id("Market"): jen.Lit(e.m.Name), jen.Id("Stream"): jen.Lit(s.Name),
			jen.Id("Param"): jen.Lit(p.Name), jen.Id("Err"): err,
		}))
	}
	var out []jen.Code
	switch p.Type {
	case "enum":
		stmt := jen.If(jen.Err().Op(":=").Add(field.Clone()).Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(paramErr(jen.Err()))
		if p.Optional || p.Default != "" {
			stmt = jen.If(field.Clone().Op("!=").Lit("")).Block(stmt)
		}
		out = append(out, stmt)
	case "symbol":
		stmt := jen.If(jen.Err().Op(":=").Qual(wirePkg, "CheckSymbol").Call(field.Clone()), jen.Err().Op("!=").Nil()).Block(paramErr(jen.Err()))
		if p.Optional {
			stmt = jen.If(field.Clone().Op("!=").Lit("")).Block(stmt)
		}
		out = append(out, stmt)
	case "string":
		cond := field.Clone().Op("==").Lit("")
		if p.Optional {
			cond = nil
		}
		if cond != nil {
			out = append(out, jen.If(cond).Block(paramErr(jen.Qual(wirePkg, "ErrRequired"))))
		}
	}
	if p.Pattern != "" {
		cond := jen.Op("!").Id(patternVar(s, p)).Dot("MatchString").Call(field.Clone())
		if p.Optional {
			cond = field.Clone().Op("!=").Lit("").Op("&&").Add(cond)
		}
		out = append(out, jen.If(cond).Block(paramErr(jen.Op("&").Qual(wirePkg, "PatternError").Values(jen.Dict{
			jen.Id("Value"): field.Clone(), jen.Id("Pattern"): jen.Lit(p.Pattern)}))))
	}
	return out
}

// accepts returns the condition under which a captured value is valid for a
// parameter while parsing a name, or nil when any value is.
func (e *emitter) accepts(s *StreamModel, p *ParamModel, value *jen.Statement) jen.Code {
	var conds []*jen.Statement
	switch p.Type {
	case "enum":
		conds = append(conds, jen.Id(p.Enum.GoName).Call(value.Clone()).Dot("Valid").Call())
	case "symbol":
		conds = append(conds, jen.Qual(wirePkg, "CheckSymbol").Call(value.Clone()).Op("==").Nil())
	}
	if p.Pattern != "" {
		conds = append(conds, jen.Id(patternVar(s, p)).Dot("MatchString").Call(value.Clone()))
	}
	if len(conds) == 0 {
		return nil
	}
	out := conds[0]
	for _, c := range conds[1:] {
		out = out.Op("&&").Add(c)
	}
	return out
}

// buildName returns the body of StreamName.
func (e *emitter) buildName(s *StreamModel) []jen.Code {
	body := defaults(s)
	stmts, expr := templateCode(s, s.Template, "name")
	return append(append(body, stmts...), jen.Return(expr))
}

// defaults declares a local for each parameter with a default, holding the
// parameter or its default.
func defaults(s *StreamModel) []jen.Code {
	var body []jen.Code
	for _, p := range s.Params {
		if p.Default != "" {
			v := lowerFirst(p.GoName)
			body = append(body,
				jen.Id(v).Op(":=").Id("p").Dot(p.GoName),
				jen.If(jen.Id(v).Op("==").Lit("")).Block(jen.Id(v).Op("=").Lit(p.Default)))
		}
	}
	return body
}

// paramValue is the wire text of a parameter (after defaults).
func paramValue(p *ParamModel) jen.Code {
	var v jen.Code = jen.Id("p").Dot(p.GoName)
	if p.Default != "" {
		v = jen.Id(lowerFirst(p.GoName))
	}
	switch p.Type {
	case "symbol":
		return jen.Qual("strings", "ToLower").Call(v)
	case "enum":
		return jen.String().Call(v)
	}
	return v
}

// templateCode renders a template over the stream's parameters: the
// template's literal parts joined with the parameter values, optional parts
// only when set. A template without optional parts is one expression;
// otherwise stmts build it in the local v.
func templateCode(s *StreamModel, t *wire.Template, v string) (stmts []jen.Code, expr jen.Code) {
	concat := func(parts []wire.Part) *jen.Statement {
		var expr *jen.Statement
		for _, part := range parts {
			var term jen.Code
			switch {
			case part.Literal != "":
				term = jen.Lit(part.Literal)
			case part.Param != "":
				term = paramValue(s.param(part.Param))
			default:
				continue
			}
			if expr == nil {
				expr = jen.Add(term)
			} else {
				expr = expr.Op("+").Add(term)
			}
		}
		if expr == nil {
			return jen.Lit("")
		}
		return expr
	}
	optional := false
	for _, part := range t.Parts {
		optional = optional || part.Optional != nil
	}
	if !optional {
		return nil, concat(t.Parts)
	}
	// Split the template at optional groups: the fixed head, then each group
	// appended when its parameter is set, with fixed text between groups.
	var fixed []wire.Part
	first := true
	flush := func() {
		if len(fixed) == 0 {
			return
		}
		if first {
			stmts = append(stmts, jen.Id(v).Op(":=").Add(concat(fixed)))
		} else {
			stmts = append(stmts, jen.Id(v).Op("+=").Add(concat(fixed)))
		}
		first, fixed = false, nil
	}
	for _, part := range t.Parts {
		if part.Optional == nil {
			fixed = append(fixed, part)
			continue
		}
		flush()
		if first {
			stmts, first = append(stmts, jen.Id(v).Op(":=").Lit("")), false
		}
		var param *ParamModel
		for _, q := range part.Optional {
			if q.Param != "" {
				param = s.param(q.Param)
			}
		}
		stmts = append(stmts, jen.If(jen.Id("p").Dot(param.GoName).Op("!=").Lit("")).Block(
			jen.Id(v).Op("+=").Add(concat(part.Optional))))
	}
	flush()
	return stmts, jen.Id(v)
}

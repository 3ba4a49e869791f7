package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

const orderbookPkg = "github.com/marketwire/marketwire/orderbook"

// orderBook emits the OrderBook variable (an orderbook.Spec) of a market
// with an order_book block, and the functions it points to: the diff
// stream of a symbol and a visitor of a diff event's changed levels (when
// the block has a diff stream), and the snapshot streams' functions.
func (e *emitter) orderBook(f *jen.File) {
	b := e.m.OrderBook
	f.ImportName(orderbookPkg, "orderbook")
	spec := jen.Dict{jen.Id("Market"): jen.Op("&").Id("Market")}
	if len(b.Snapshots) > 0 {
		var snaps []jen.Code
		for _, sn := range b.Snapshots {
			var levels []jen.Code
			for _, n := range sn.LevelValues {
				levels = append(levels, jen.Lit(n))
			}
			snaps = append(snaps, jen.Values(jen.Dict{
				jen.Id("Name"):   jen.Lit(sn.Stream.Name),
				jen.Id("Levels"): jen.Index().Int().Values(levels...),
				jen.Id("Stream"): jen.Id("orderBook" + sn.Stream.GoName + "Stream"),
				jen.Id("Read"):   jen.Id("orderBook" + sn.Stream.GoName + "Read"),
			}))
		}
		spec[jen.Id("Snapshots")] = jen.Index().Qual(orderbookPkg, "SnapshotSpec").Values(snaps...)
	}
	var snapDoc string
	if len(b.Snapshots) > 0 {
		var names []string
		for _, sn := range b.Snapshots {
			names = append(names, sn.Stream.Name)
		}
		snapDoc = fmt.Sprintf("Its Snapshots (%s) keep the top of the book from a stream whose messages replace it whole (orderbook.OpenSnapshot).", strings.Join(names, ", "))
	}
	if b.Diff == nil {
		f.Add(doc(fmt.Sprintf("OrderBook says how a local order book of the %s market is kept (package orderbook). It has no diff stream and no REST snapshot: orderbook.Open refuses it.", e.m.Name),
			snapDoc, "Source: "+b.Source+"."))
		f.Var().Id("OrderBook").Op("=").Qual(orderbookPkg, "Spec").Values(spec)
		e.bookSnapshots(f)
		return
	}
	d := b.Diff
	ev := d.Payload.GoName

	limits := jen.Dict{jen.Id("Default"): jen.Lit(b.Limit.Default)}
	if len(b.Limit.Values) > 0 {
		var vals []jen.Code
		for _, v := range b.Limit.Values {
			vals = append(vals, jen.Lit(v))
		}
		limits[jen.Id("Values")] = jen.Index().Int().Values(vals...)
		limits[jen.Id("Max")] = jen.Lit(b.Limit.Values[len(b.Limit.Values)-1])
	} else {
		limits[jen.Id("Max")] = jen.Lit(b.Limit.Max)
	}
	var weights []jen.Code
	for _, w := range b.Weights {
		weights = append(weights, jen.Values(jen.Dict{jen.Id("UpTo"): jen.Lit(w.UpTo), jen.Id("Weight"): jen.Lit(w.Weight)}))
	}
	limits[jen.Id("Weights")] = jen.Index().Qual(orderbookPkg, "Weight").Values(weights...)
	spec[jen.Id("Diff")] = jen.Lit(d.Name)
	spec[jen.Id("DiffStream")] = jen.Id("orderBookDiff")
	spec[jen.Id("Changes")] = jen.Id("orderBookChanges")
	spec[jen.Id("First")] = jen.Qual(orderbookPkg, b.First)
	spec[jen.Id("Path")] = jen.Lit(b.Path)
	spec[jen.Id("REST")] = endpoints(b.REST)
	spec[jen.Id("UpdateID")] = jen.Lit(b.UpdateID)
	spec[jen.Id("Limits")] = jen.Qual(orderbookPkg, "Limits").Values(limits)
	if b.WeightPerMinute > 0 {
		spec[jen.Id("WeightPerMinute")] = jen.Lit(b.WeightPerMinute)
	}
	f.Add(doc(fmt.Sprintf("OrderBook says how a local order book of the %s market is kept in sync (package orderbook): the REST depth snapshot at %s, its limits and weights, and the %s stream whose events follow it (first-event rule %s).", e.m.Name, b.Path, d.Name, b.OrderBook.First),
		snapDoc, "Source: "+b.Source+"."))
	f.Var().Id("OrderBook").Op("=").Qual(orderbookPkg, "Spec").Values(spec)

	// The diff stream of a symbol.
	params := bookParams(b.DiffParams)
	f.Add(doc(fmt.Sprintf("orderBookDiff returns the %s stream of symbol for OrderBook.", d.Name)))
	f.Func().Id("orderBookDiff").Params(jen.Id("symbol").String()).Params(jen.Qual(runtimePkg, "Stream"), jen.Error()).Block(
		jen.Id("p").Op(":=").Id(d.GoName+"Params").Values(params),
		jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Qual(runtimePkg, "Stream").Values(), jen.Err())),
		jen.Return(jen.Id("p").Dot("Stream").Call(), jen.Nil()),
	)

	// The visitor of changed levels.
	visit := func(field string, bid bool) jen.Code { return visitLevels(b.Level, field, bid) }
	f.Add(doc(fmt.Sprintf("orderBookChanges visits the changed levels of a %s for OrderBook: bids, then asks; a nil visit only checks that v is one.", ev)))
	f.Func().Id("orderBookChanges").Params(jen.Id("v").Any(), jen.Id("visit").Func().Params(jen.Id("bid").Bool(), jen.List(jen.Id("price"), jen.Id("qty")).Qual(wirePkg, "Decimal"))).Bool().Block(
		jen.List(jen.Id("e"), jen.Id("ok")).Op(":=").Id("v").Assert(jen.Op("*").Id(ev)),
		jen.If(jen.Op("!").Id("ok").Op("||").Id("e").Op("==").Nil()).Block(jen.Return(jen.False())),
		jen.If(jen.Id("visit").Op("==").Nil()).Block(jen.Return(jen.True())),
		visit(b.Bids, true),
		visit(b.Asks, false),
		jen.Return(jen.True()),
	)
	e.bookSnapshots(f)
}

// bookSnapshots emits, for each snapshot stream of the order book, the
// stream of a symbol at a number of levels and the reader of a message's
// levels and update id.
func (e *emitter) bookSnapshots(f *jen.File) {
	for _, sn := range e.m.OrderBook.Snapshots {
		st, ev := sn.Stream, sn.Stream.Payload.GoName
		params := bookParams(sn.Params)
		name := "orderBook" + st.GoName + "Stream"
		var body []jen.Code
		var levelsDoc string
		switch {
		case sn.Fixed > 0:
			// No levels parameter: the depth is fixed, levels must be it.
			levelsDoc = fmt.Sprintf(" The stream's depth is fixed: levels must be %d.", sn.Fixed)
			body = append(body,
				jen.If(jen.Id("levels").Op("!=").Lit(sn.Fixed)).Block(
					jen.Return(jen.Qual(runtimePkg, "Stream").Values(),
						jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: %s: the stream sends %d levels per side, not %%d", e.m.Name, st.Name, sn.Fixed)), jen.Id("levels")))),
				jen.Id("p").Op(":=").Id(st.GoName+"Params").Values(params))
		case sn.Default > 0:
			// The default depth is the levels parameter left empty.
			levelsDoc = fmt.Sprintf(" %d levels, the default, leave the %s parameter empty.", sn.Default, sn.Levels.Name)
			body = append(body,
				jen.Id("p").Op(":=").Id(st.GoName+"Params").Values(params),
				jen.If(jen.Id("levels").Op("!=").Lit(sn.Default)).Block(
					jen.Id("p").Dot(sn.Levels.GoName).Op("=").Id(sn.Levels.Enum.GoName).Call(jen.Qual("strconv", "Itoa").Call(jen.Id("levels")))))
		default:
			params[jen.Id(sn.Levels.GoName)] = jen.Id(sn.Levels.Enum.GoName).Call(jen.Qual("strconv", "Itoa").Call(jen.Id("levels")))
			body = append(body, jen.Id("p").Op(":=").Id(st.GoName+"Params").Values(params))
		}
		body = append(body,
			jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Qual(runtimePkg, "Stream").Values(), jen.Err())),
			jen.Return(jen.Id("p").Dot("Stream").Call(), jen.Nil()))
		f.Add(doc(fmt.Sprintf("%s returns the %s stream of symbol at levels per side, for OrderBook's Snapshots.%s", name, st.Name, levelsDoc)))
		f.Func().Id(name).Params(jen.Id("symbol").String(), jen.Id("levels").Int()).Params(jen.Qual(runtimePkg, "Stream"), jen.Error()).Block(body...)
		name = "orderBook" + st.GoName + "Read"
		f.Add(doc(fmt.Sprintf("%s visits the levels of a %s for OrderBook's Snapshots (bids, then asks, as received) and returns its update id; ok is false when v is not one. A nil visit only reads the id.", name, ev)))
		f.Func().Id(name).Params(jen.Id("v").Any(), jen.Id("visit").Func().Params(jen.Id("bid").Bool(), jen.List(jen.Id("price"), jen.Id("qty")).Qual(wirePkg, "Decimal"))).Params(jen.Id("id").Int64(), jen.Id("ok").Bool()).Block(
			jen.List(jen.Id("e"), jen.Id("ok")).Op(":=").Id("v").Assert(jen.Op("*").Id(ev)),
			jen.If(jen.Op("!").Id("ok").Op("||").Id("e").Op("==").Nil()).Block(jen.Return(jen.Lit(0), jen.False())),
			jen.If(jen.Id("visit").Op("!=").Nil()).Block(
				visitLevels(sn.Level, sn.Bids, true),
				visitLevels(sn.Level, sn.Asks, false),
			),
			jen.Return(jen.Id("e").Dot(sn.UpID), jen.True()),
		)
	}
}

// bookParams returns the Params literal of a book stream: the symbol and
// the fixed parameter values, enum values by their constants.
func bookParams(fixed []BookParam) jen.Dict {
	params := jen.Dict{jen.Id("Symbol"): jen.Id("symbol")}
	for _, p := range fixed {
		var v jen.Code = jen.Lit(p.Value)
		if p.Param.Enum != nil {
			for _, ev := range p.Param.Enum.Values {
				if ev.Wire == p.Value {
					v = jen.Id(ev.GoName)
				}
			}
		}
		params[jen.Id(p.Param.GoName)] = v
	}
	return params
}

// visitLevels calls visit on each level of e's field.
func visitLevels(level *TypeModel, field string, bid bool) jen.Code {
	price, qty := level.Fields[0].GoName, level.Fields[1].GoName
	return jen.For(jen.Id("i").Op(":=").Range().Id("e").Dot(field)).Block(
		jen.Id("visit").Call(jen.Lit(bid), jen.Id("e").Dot(field).Index(jen.Id("i")).Dot(price), jen.Id("e").Dot(field).Index(jen.Id("i")).Dot(qty)))
}

package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

const orderbookPkg = "github.com/marketwire/marketwire/orderbook"

// orderBook emits the OrderBook variable (an orderbook.Spec) of a market
// with an order_book block, and the two functions it points to: the diff
// stream of a symbol, and a visitor of a diff event's changed levels.
func (e *emitter) orderBook(f *jen.File) {
	b := e.m.OrderBook
	f.ImportName(orderbookPkg, "orderbook")
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
	spec := jen.Dict{
		jen.Id("Market"):     jen.Op("&").Id("Market"),
		jen.Id("Diff"):       jen.Lit(d.Name),
		jen.Id("DiffStream"): jen.Id("orderBookDiff"),
		jen.Id("Changes"):    jen.Id("orderBookChanges"),
		jen.Id("First"):      jen.Qual(orderbookPkg, b.First),
		jen.Id("Path"):       jen.Lit(b.Path),
		jen.Id("REST"):       endpoints(b.REST),
		jen.Id("UpdateID"):   jen.Lit(b.UpdateID),
		jen.Id("Limits"):     jen.Qual(orderbookPkg, "Limits").Values(limits),
	}
	if b.WeightPerMinute > 0 {
		spec[jen.Id("WeightPerMinute")] = jen.Lit(b.WeightPerMinute)
	}
	f.Add(doc(fmt.Sprintf("OrderBook says how a local order book of the %s market is kept in sync (package orderbook): the REST depth snapshot at %s, its limits and weights, and the %s stream whose events follow it (first-event rule %s).", e.m.Name, b.Path, d.Name, b.OrderBook.First),
		"Source: "+b.Source+"."))
	f.Var().Id("OrderBook").Op("=").Qual(orderbookPkg, "Spec").Values(spec)

	// The diff stream of a symbol.
	params := jen.Dict{jen.Id("Symbol"): jen.Id("symbol")}
	for _, p := range b.DiffParams {
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
	f.Add(doc(fmt.Sprintf("orderBookDiff returns the %s stream of symbol for OrderBook.", d.Name)))
	f.Func().Id("orderBookDiff").Params(jen.Id("symbol").String()).Params(jen.Qual(runtimePkg, "Stream"), jen.Error()).Block(
		jen.Id("p").Op(":=").Id(d.GoName+"Params").Values(params),
		jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Qual(runtimePkg, "Stream").Values(), jen.Err())),
		jen.Return(jen.Id("p").Dot("Stream").Call(), jen.Nil()),
	)

	// The visitor of changed levels.
	price, qty := b.Level.Fields[0].GoName, b.Level.Fields[1].GoName
	visit := func(field string, bid bool) jen.Code {
		return jen.For(jen.Id("i").Op(":=").Range().Id("e").Dot(field)).Block(
			jen.Id("visit").Call(jen.Lit(bid), jen.Id("e").Dot(field).Index(jen.Id("i")).Dot(price), jen.Id("e").Dot(field).Index(jen.Id("i")).Dot(qty)))
	}
	f.Add(doc(fmt.Sprintf("orderBookChanges visits the changed levels of a %s for OrderBook: bids, then asks; a nil visit only checks that v is one.", ev)))
	f.Func().Id("orderBookChanges").Params(jen.Id("v").Any(), jen.Id("visit").Func().Params(jen.Id("bid").Bool(), jen.List(jen.Id("price"), jen.Id("qty")).Qual(wirePkg, "Decimal"))).Bool().Block(
		jen.List(jen.Id("e"), jen.Id("ok")).Op(":=").Id("v").Assert(jen.Op("*").Id(ev)),
		jen.If(jen.Op("!").Id("ok").Op("||").Id("e").Op("==").Nil()).Block(jen.Return(jen.False())),
		jen.If(jen.Id("visit").Op("==").Nil()).Block(jen.Return(jen.True())),
		visit(b.Bids, true),
		visit(b.Asks, false),
		jen.Return(jen.True()),
	)
}

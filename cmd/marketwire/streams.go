package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/marketwire/marketwire/generated/markets"
)

// streamsCmd lists every stream of one market, or of all, with its
// template, route, parameters and their allowed values.
func streamsCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("streams", flag.ContinueOnError)
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	var names []string
	switch len(pos) {
	case 0:
		for n := range markets.All {
			names = append(names, n)
		}
		sort.Strings(names)
	case 1:
		names = pos
	default:
		return bad("want at most one market, got %d arguments", len(pos))
	}
	var b strings.Builder
	for i, name := range names {
		c, ok := newCatalog(name)
		if !ok {
			return bad("unknown market %q (want %s)", name, marketNames())
		}
		if i > 0 {
			b.WriteString("\n")
		}
		info := c.m.Info
		var eps []string
		for _, e := range info.Endpoints {
			eps = append(eps, e.Name)
		}
		fmt.Fprintf(&b, "%s (venue %s): %d streams; endpoints %s\n", name, info.Venue, len(c.streams), strings.Join(eps, ", "))
		kw, tw := 0, 0
		for _, d := range c.streams {
			kw, tw = max(kw, len(d.kind)), max(tw, len(d.template))
		}
		for _, d := range c.streams {
			route := ""
			if d.route != "" {
				route = "  route " + d.route
			}
			fmt.Fprintf(&b, "  %-*s  %-*s  e.g. %s%s\n", kw, d.kind, tw, d.template, d.example, route)
			for _, p := range d.params {
				var vals string
				switch {
				case len(p.allowed) > 0:
					vals = strings.Join(p.allowed, " ")
				case p.pattern != "":
					vals = "matching " + p.pattern
				default:
					continue // a symbol or an address: any
				}
				switch {
				case p.def != "":
					vals += " (default " + p.def + ")"
				case p.optional:
					vals += " (optional)"
				}
				fmt.Fprintf(&b, "  %-*s    %s: %s\n", kw, "", p.name, vals)
			}
		}
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

// marketNames lists the markets, for messages.
func marketNames() string {
	var names []string
	for n := range markets.All {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

package generated_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/marketwire/marketwire/generated/coinm"
	"github.com/marketwire/marketwire/generated/usdm"
)

// decodeUserFixture decodes testdata/<path>, a user-data fixture, with
// decode, and returns the value.
func decodeUserFixture[T any](t *testing.T, path string, decode func([]byte) (T, error)) T {
	t.Helper()
	for _, f := range loadFixtures(t) {
		if f.path == path {
			v, err := decode(f.Data)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return v
		}
	}
	t.Fatalf("no fixture %s", path)
	var zero T
	return zero
}

// TestExchangeChanges pins the schema changes that follow the exchange
// (issue #12, point 6), each on its wire fixture, so that a schema edit
// undoing one fails here by name and not only in the golden values.
func TestExchangeChanges(t *testing.T) {
	t.Run("ACCOUNT_UPDATE balance S (funding-fee symbol)", func(t *testing.T) {
		um := decodeUserFixture(t, "usdm/user/account_update_funding_fee_symbol.json", usdm.DecodeUser).(*usdm.AccountUpdateEvent)
		if b := um.Update.Balances; len(b) != 1 || b[0].Symbol == nil || *b[0].Symbol != "BTCUSDT" {
			t.Errorf("usdm balances %+v, want one with Symbol BTCUSDT", b)
		}
		cm := decodeUserFixture(t, "coinm/user/account_update_funding_fee_symbol.json", coinm.DecodeUser).(*coinm.AccountUpdateEvent)
		if b := cm.Update.Balances; len(b) != 1 || b[0].Symbol == nil || *b[0].Symbol != "BTCUSD_PERP" {
			t.Errorf("coinm balances %+v, want one with Symbol BTCUSD_PERP", b)
		}
		// Without the key (every other ACCOUNT_UPDATE) it stays absent.
		plain := decodeUserFixture(t, "usdm/user/account_update_funding_fee.json", usdm.DecodeUser).(*usdm.AccountUpdateEvent)
		if s := plain.Update.Balances[0].Symbol; s != nil {
			t.Errorf("Symbol %q decoded from a balance without S", *s)
		}
		if got := string(plain.AppendJSON(nil)); strings.Contains(got, `"S"`) {
			t.Errorf("absent S re-encoded: %s", got)
		}
	})
	t.Run("ALGO_UPDATE ia and GTE_GTC", func(t *testing.T) {
		ev := decodeUserFixture(t, "usdm/user/algo_update_trailing_activated.json", usdm.DecodeUser).(*usdm.AlgoUpdateEvent)
		if ev.Order.IsActivated == nil || !*ev.Order.IsActivated {
			t.Errorf("IsActivated %v, want true", ev.Order.IsActivated)
		}
		if ev.Order.TimeInForce != usdm.TimeInForceGTEGTC || !ev.Order.TimeInForce.Valid() {
			t.Errorf("TimeInForce %q, want the schema's GTE_GTC", ev.Order.TimeInForce)
		}
		old := decodeUserFixture(t, "usdm/user/algo_update.json", usdm.DecodeUser).(*usdm.AlgoUpdateEvent)
		if got := string(old.AppendJSON(nil)); old.Order.IsActivated != nil || strings.Contains(got, `"ia"`) {
			t.Errorf("ALGO_UPDATE without ia: IsActivated %v, encoded %s", old.Order.IsActivated, got)
		}
	})
	t.Run("ORDER_TRADE_UPDATE cp optional and RPI", func(t *testing.T) {
		um := decodeUserFixture(t, "usdm/user/order_trade_update_rpi.json", usdm.DecodeUser).(*usdm.OrderTradeUpdateEvent)
		if um.Order.TimeInForce != usdm.TimeInForceRPI || !um.Order.TimeInForce.Valid() {
			t.Errorf("TimeInForce %q, want the schema's RPI", um.Order.TimeInForce)
		}
		if got := string(um.AppendJSON(nil)); um.Order.IsCloseAll != nil || strings.Contains(got, `"cp"`) {
			t.Errorf("usdm order without cp: IsCloseAll %v, encoded %s", um.Order.IsCloseAll, got)
		}
		cm := decodeUserFixture(t, "coinm/user/order_trade_update_no_cp.json", coinm.DecodeUser).(*coinm.OrderTradeUpdateEvent)
		if got := string(cm.AppendJSON(nil)); cm.Order.IsCloseAll != nil || strings.Contains(got, `"cp"`) {
			t.Errorf("coinm order without cp: IsCloseAll %v, encoded %s", cm.Order.IsCloseAll, got)
		}
		cond := decodeUserFixture(t, "usdm/user/order_trade_update.json", usdm.DecodeUser).(*usdm.OrderTradeUpdateEvent)
		if cond.Order.IsCloseAll == nil || !strings.Contains(string(cond.AppendJSON(nil)), `"cp":false`) {
			t.Errorf("conditional order: IsCloseAll %v, want false kept", cond.Order.IsCloseAll)
		}
	})
	t.Run("CONDITIONAL_ORDER_TRIGGER_REJECT deprecated, still decoded", func(t *testing.T) {
		v := decodeUserFixture(t, "usdm/user/conditional_order_trigger_reject.json", usdm.DecodeUser)
		//lint:ignore SA1019 the deprecated event must still decode
		if _, ok := v.(*usdm.ConditionalOrderTriggerRejectEvent); !ok {
			t.Fatalf("decoded as %T", v)
		}
		if doc := typeDoc(t, "usdm/types_gen.go", "ConditionalOrderTriggerRejectEvent"); !strings.Contains(doc, "\nDeprecated: ") {
			t.Errorf("no Deprecated paragraph in the type's doc:\n%s", doc)
		}
	})
}

// typeDoc returns the doc comment of the named type in a generated file.
func typeDoc(t *testing.T, file, name string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
			for _, s := range g.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.Name == name && g.Doc != nil {
					return g.Doc.Text()
				}
			}
		}
	}
	t.Fatalf("%s: no documented type %s", file, name)
	return ""
}

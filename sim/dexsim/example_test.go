package dexsim_test

import (
	"fmt"

	"github.com/gorilla/websocket"

	"github.com/marketwire/marketwire/sim/dexsim"
)

// A client subscribes in the URL; the test publishes one payload and reads
// the frame the DEX would send.
func Example() {
	s := dexsim.New(dexsim.WithPublishInterval(0)) // only what the example publishes
	if err := s.Start(); err != nil {
		panic(err)
	}
	defer s.Close()

	ws, _, err := websocket.DefaultDialer.Dial(s.URL()+"/ws/BNB_BTCB-1DE@trades", nil)
	if err != nil {
		panic(err)
	}
	defer ws.Close()

	n := s.Publish("BNB_BTCB-1DE@trades", []byte(`[{"e":"trade","E":7549438,"s":"BNB_BTCB-1DE","t":"7549438-0","p":"0.00260000","q":"1.00000000"}]`))
	_, frame, err := ws.ReadMessage()
	if err != nil {
		panic(err)
	}
	fmt.Println(n, string(frame))
	// Output:
	// 1 {"stream":"trades","data":[{"e":"trade","E":7549438,"s":"BNB_BTCB-1DE","t":"7549438-0","p":"0.00260000","q":"1.00000000"}]}
}

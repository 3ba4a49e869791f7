package wire

// Hand-written decoders in the shape of generated code, shared by tests and
// benchmarks.

const aggTradeJSON = `{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`

type aggTrade struct {
	Event     string
	EventTime Millis
	Symbol    string
	ID        int64
	Price     Decimal
	Qty       Decimal
	First     int64
	Last      int64
	TradeTime Millis
	Maker     bool
	Ignore    bool
}

func (e *aggTrade) UnmarshalJSON(b []byte) error {
	var d Decoder
	d.Reset(b)
	if err := e.decode(&d); err != nil {
		return err
	}
	return d.End()
}

func (e *aggTrade) decode(d *Decoder) error {
	if err := d.ObjectStart(); err != nil {
		return err
	}
	for {
		k, ok, err := d.NextKey()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		var v int64
		switch k {
		case "e":
			e.Event, err = d.String()
		case "E":
			v, err = d.Int()
			e.EventTime = Millis(v)
		case "s":
			e.Symbol, err = d.String()
		case "a":
			e.ID, err = d.Int()
		case "p":
			e.Price, err = d.Decimal()
		case "q":
			e.Qty, err = d.Decimal()
		case "f":
			e.First, err = d.Int()
		case "l":
			e.Last, err = d.Int()
		case "T":
			v, err = d.Int()
			e.TradeTime = Millis(v)
		case "m":
			e.Maker, err = d.Bool()
		case "M":
			e.Ignore, err = d.Bool()
		default:
			err = d.Skip()
		}
		if err != nil {
			return NewFieldError("spot", "aggTrade", k, err)
		}
	}
}

// aggTradePlain is the same event as plain Go types, for go-json and
// encoding/json.
type aggTradePlain struct {
	Event     string `json:"e"`
	EventTime int64  `json:"E"`
	Symbol    string `json:"s"`
	ID        int64  `json:"a"`
	Price     string `json:"p"`
	Qty       string `json:"q"`
	First     int64  `json:"f"`
	Last      int64  `json:"l"`
	TradeTime int64  `json:"T"`
	Maker     bool   `json:"m"`
	Ignore    bool   `json:"M"`
}

const depthJSON = `{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,` +
	`"b":[["0.0024","10"],["0.0023","100.5"],["0.0022","0"],["0.0021","7.25"],["0.0020","1"]],` +
	`"a":[["0.0026","100"],["0.0027","3"],["0.0028","0.001"],["0.0029","12"],["0.0030","0"]]}`

type level struct {
	Price Decimal
	Qty   Decimal
}

func readLevel(l *level, d *Decoder) error {
	if err := d.ArrayStart(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		ok, err := d.NextElem()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch i {
		case 0:
			l.Price, err = d.Decimal()
		case 1:
			l.Qty, err = d.Decimal()
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

type depthUpdate struct {
	Event     string
	EventTime Millis
	Symbol    string
	FirstID   int64
	FinalID   int64
	Bids      []level
	Asks      []level
}

func (e *depthUpdate) UnmarshalJSON(b []byte) error {
	var d Decoder
	d.Reset(b)
	if err := d.ObjectStart(); err != nil {
		return err
	}
	for {
		k, ok, err := d.NextKey()
		if err != nil {
			return err
		}
		if !ok {
			return d.End()
		}
		var v int64
		switch k {
		case "e":
			e.Event, err = d.String()
		case "E":
			v, err = d.Int()
			e.EventTime = Millis(v)
		case "s":
			e.Symbol, err = d.String()
		case "U":
			e.FirstID, err = d.Int()
		case "u":
			e.FinalID, err = d.Int()
		case "b":
			e.Bids, err = DecodeArray(&d, e.Bids[:0], readLevel)
		case "a":
			e.Asks, err = DecodeArray(&d, e.Asks[:0], readLevel)
		default:
			err = d.Skip()
		}
		if err != nil {
			return NewFieldError("spot", "depthUpdate", k, err)
		}
	}
}

type depthPlain struct {
	Event     string      `json:"e"`
	EventTime int64       `json:"E"`
	Symbol    string      `json:"s"`
	FirstID   int64       `json:"U"`
	FinalID   int64       `json:"u"`
	Bids      [][2]string `json:"b"`
	Asks      [][2]string `json:"a"`
}

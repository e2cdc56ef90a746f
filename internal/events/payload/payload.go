// Package payload defines the body of an event as it is stored, and the outcome an event
// had. It has no dependencies so the data model can store these types as JSON.
package payload

// Kind is an event kind of docs/domain.md §2.
type Kind string

// The event kinds.
const (
	OrderCompleted    Kind = "ORDER_COMPLETED"
	OrderRefunded     Kind = "ORDER_REFUNDED"
	ReviewPosted      Kind = "REVIEW_POSTED"
	PhotoReviewPosted Kind = "PHOTO_REVIEW_POSTED"
	QuestionAnswered  Kind = "QUESTION_ANSWERED"
	ProductShared     Kind = "PRODUCT_SHARED"
	Login             Kind = "LOGIN"
	AppOpened         Kind = "APP_OPENED"
	CheckIn           Kind = "CHECK_IN"
	AccountVerified   Kind = "ACCOUNT_VERIFIED"
	AccountBound      Kind = "ACCOUNT_BOUND"
	RiskUpdated       Kind = "RISK_UPDATED"
)

// Kinds lists every kind in a stable order.
var Kinds = []Kind{OrderCompleted, OrderRefunded, ReviewPosted, PhotoReviewPosted, QuestionAnswered,
	ProductShared, Login, AppOpened, CheckIn, AccountVerified, AccountBound, RiskUpdated}

// KindValues returns the kinds as strings, for the data model's enum.
func KindValues() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

// Line is one line of a completed order.
type Line struct {
	SKU         string `json:"sku"`
	Category    string `json:"category"`
	PaidCents   int64  `json:"paidCents"`
	ProductType string `json:"productType"`
}

// Body is everything an event says beyond its key, member, kind, channel and time. Fields
// not used by a kind are empty.
type Body struct {
	OrderID       string   `json:"orderId,omitempty"`
	OrderType     string   `json:"orderType,omitempty"`
	PaymentMethod string   `json:"paymentMethod,omitempty"`
	Lines         []Line   `json:"lines,omitempty"`
	SKUs          []string `json:"skus,omitempty"` // refunded lines; the reviewed line of a review
	Provider      string   `json:"provider,omitempty"`
	Reputation    *int     `json:"reputation,omitempty"`
	Credit        *int     `json:"credit,omitempty"`
}

// Outcome is what an accepted event did, kept so a replay answers the same.
type Outcome struct {
	// Points is the net change of the member's points ledger.
	Points int64 `json:"points"`
	// PendingPoints is the part of Points held pending.
	PendingPoints int64 `json:"pendingPoints,omitempty"`
	// DebtPoints is the debt a refund left when the points were already spent.
	DebtPoints int64 `json:"debtPoints,omitempty"`
	// WithholdCents is the cash value of DebtPoints the commerce side may withhold.
	WithholdCents int64 `json:"withholdCents,omitempty"`
}

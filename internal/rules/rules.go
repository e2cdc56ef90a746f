// Package rules holds a programme's rule configuration: every number docs/domain.md marks as a
// default lives here as data, so an operator changes it without code. The package knows
// nothing of storage or GraphQL; a Program row stores Rules as JSON.
package rules

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Rules is the whole configuration of one programme. The zero value is not valid; start
// from JDPreset and change fields.
type Rules struct {
	// Categories are the top categories order lines may name (docs/domain.md §6); a line with
	// another category is rejected.
	Categories []string `json:"categories"`
	Earning    Earning  `json:"earning"`
	Spending   Spending `json:"spending"`
	Expiry     Expiry   `json:"expiry"`
	Score      Score    `json:"score"`
	// PlusBenefits are PLUS's catalogue entries and savings rules (docs/domain.md §5); read
	// them through PlusBenefitRules.
	PlusBenefits PlusBenefits `json:"plusBenefits"`
	// Plus is the PLUS membership's plans (docs/domain.md §5); read them through PlusPlans.
	Plus Plus `json:"plus"`
}

// Earning configures how points are earned (docs/domain.md §3 "Earning").
type Earning struct {
	// PurchaseMinLineCents is the smallest paid line amount that earns purchase points.
	PurchaseMinLineCents int64 `json:"purchaseMinLineCents"`
	// PurchaseStepCents floors the paid amount to a multiple of itself before the rate applies.
	PurchaseStepCents int64 `json:"purchaseStepCents"`
	// PurchaseMilliPointsPerYuan is the purchase reward per yuan of the floored amount, in
	// thousandths of a point, so 10% of the yuan amount is 100.
	PurchaseMilliPointsPerYuan int64 `json:"purchaseMilliPointsPerYuan"`
	// PurchaseLineCap and PurchaseLineCapApp cap the reward of one line; the app cap applies
	// when the order came through the APP channel.
	PurchaseLineCap    int64 `json:"purchaseLineCap"`
	PurchaseLineCapApp int64 `json:"purchaseLineCapApp"`
	// ExcludedCategories, ExcludedProductTypes, ExcludedOrderTypes and
	// ExcludedPaymentMethods earn no purchase points.
	ExcludedCategories     []string `json:"excludedCategories"`
	ExcludedProductTypes   []string `json:"excludedProductTypes"`
	ExcludedOrderTypes     []string `json:"excludedOrderTypes"`
	ExcludedPaymentMethods []string `json:"excludedPaymentMethods"`
	// PlusMultiplier is the total multiple of the purchase reward an active PLUS member
	// gets; the part above 1× is a separate entry funded by PLUS.
	PlusMultiplier int64 `json:"plusMultiplier"`
	// Fixed rewards per behaviour.
	Review              int64 `json:"review"`
	PhotoReview         int64 `json:"photoReview"`
	CheckIn             int64 `json:"checkIn"`
	FirstMobileOrderDay int64 `json:"firstMobileOrderOfDay"`
	// PendingDays holds order points as pending before they are spendable; 0 means at once.
	PendingDays int `json:"pendingDays"`
}

// Spending configures order deduction (docs/domain.md §3 "Spending").
type Spending struct {
	// DeductionStep: order deduction only in multiples of this many points.
	DeductionStep int64 `json:"deductionStep"`
	// DeductionMinBalance: the member needs at least this many points to deduct.
	DeductionMinBalance int64 `json:"deductionMinBalance"`
	// DeductionMaxPercent of the order's settlement amount may be paid with points.
	DeductionMaxPercent int64 `json:"deductionMaxPercent"`
}

// Expiry configures when earned points lapse (docs/domain.md §3 "Expiry").
type Expiry struct {
	// YearsAfterEarning: points earned in year N expire at the end of 31 December of
	// year N+YearsAfterEarning in the programme's time zone.
	YearsAfterEarning int `json:"yearsAfterEarning"`
}

// Score modes (docs/domain.md §4): the rolling 12-month score (京享值) or cumulative growth
// (成长值) with a yearly deduction per tier on 1 January.
const (
	ScoreRolling    = "ROLLING"
	ScoreCumulative = "CUMULATIVE"
)

// Score configures the member score and how it is settled (docs/domain.md §4 "The score").
type Score struct {
	// Mode is ScoreRolling or ScoreCumulative.
	Mode string `json:"mode"`
	// WindowMonths is how many whole months before the settlement day a rolling score rates.
	WindowMonths int          `json:"windowMonths"`
	Weights      ScoreWeights `json:"weights"`
	Coefficient  Coefficient  `json:"coefficient"`
}

// ScoreWeights are the points each counted thing adds to the raw score.
type ScoreWeights struct {
	SpendYuan   int64 `json:"spendYuan"`   // per whole yuan of confirmed spend
	Order       int64 `json:"order"`       // per completed order (not refunded in full)
	PurchaseDay int64 `json:"purchaseDay"` // per distinct day with a purchase
	LoginDay    int64 `json:"loginDay"`    // per distinct day with a login or app open
	Review      int64 `json:"review"`
	PhotoReview int64 `json:"photoReview"`
	Answer      int64 `json:"answer"`
	Share       int64 `json:"share"`
	// RealName is added once the member's real name is verified, BoundAccount per bound
	// social account up to BoundAccountMax.
	RealName        int64 `json:"realName"`
	BoundAccount    int64 `json:"boundAccount"`
	BoundAccountMax int   `json:"boundAccountMax"`
}

// Coefficient multiplies the raw score; percentages keep the arithmetic in integers
// (100 = 1.0).
type Coefficient struct {
	// OrdinaryPercent applies when no band and no risk rule does.
	OrdinaryPercent int64 `json:"ordinaryPercent"`
	// RiskBelow: a reputation or credit signal below it sets RiskPercent.
	RiskBelow   int   `json:"riskBelow"`
	RiskPercent int64 `json:"riskPercent"`
	// Bands reward good members, best first: the first band whose minimums the member
	// meets and whose refund-rate ceiling it stays under sets the coefficient.
	Bands []CoefficientBand `json:"bands"`
}

// CoefficientBand is one step above ordinary.
type CoefficientBand struct {
	MinReputation int `json:"minReputation"`
	MinCredit     int `json:"minCredit"`
	// MaxRefundPermille is the highest share of orders with a refund, in thousandths.
	MaxRefundPermille int64 `json:"maxRefundPermille"`
	Percent           int64 `json:"percent"`
}

// JDPreset returns the rules of the shipped "JD-style" programme preset, with the default
// numbers of docs/domain.md.
func JDPreset() Rules {
	return Rules{
		Categories: []string{
			"PHONES", "COMPUTERS", "DIGITAL", "APPLIANCES", "HOME", "KITCHEN", "APPAREL", "SHOES_BAGS",
			"BEAUTY", "PERSONAL_CARE", "BABY", "TOYS", "FOOD", "FRESH", "WINE", "HEALTH", "SPORTS", "AUTO",
			"BOOKS", "PETS", "JEWELRY", "INVESTMENT_METALS", "AGRICULTURAL_SUPPLIES", "WHOLE_VEHICLES",
		},
		Earning: Earning{
			PurchaseMinLineCents:       5000,
			PurchaseStepCents:          1000,
			PurchaseMilliPointsPerYuan: 100,
			PurchaseLineCap:            1000,
			PurchaseLineCapApp:         2000,
			ExcludedCategories:         []string{"INVESTMENT_METALS", "AGRICULTURAL_SUPPLIES", "WHOLE_VEHICLES"},
			ExcludedProductTypes:       []string{"VIRTUAL", "SERVICE"},
			ExcludedOrderTypes:         []string{"GROUP_BUY", "AUCTION"},
			ExcludedPaymentMethods:     []string{"CORPORATE_TRANSFER", "POSTAL_REMITTANCE"},
			PlusMultiplier:             10,
			Review:                     10,
			PhotoReview:                20,
			CheckIn:                    5,
			FirstMobileOrderDay:        10,
			PendingDays:                0,
		},
		Spending: Spending{
			DeductionStep:       1000,
			DeductionMinBalance: 1000,
			DeductionMaxPercent: 50,
		},
		Expiry: Expiry{YearsAfterEarning: 1},
		Score: Score{
			Mode:         ScoreRolling,
			WindowMonths: 12,
			Weights: ScoreWeights{
				SpendYuan: 1, Order: 0, PurchaseDay: 5, LoginDay: 1, Review: 2, PhotoReview: 3, Answer: 1, Share: 1,
				RealName: 50, BoundAccount: 20, BoundAccountMax: 2,
			},
			Coefficient: Coefficient{
				OrdinaryPercent: 100,
				RiskBelow:       40,
				RiskPercent:     80,
				Bands: []CoefficientBand{
					{MinReputation: 90, MinCredit: 90, MaxRefundPermille: 50, Percent: 130},
					{MinReputation: 80, MinCredit: 80, MaxRefundPermille: 100, Percent: 120},
					{MinReputation: 70, MinCredit: 70, MaxRefundPermille: 150, Percent: 110},
				},
			},
		},
		PlusBenefits: JDPlusBenefits(),
		Plus:         JDPlus(),
	}
}

// ErrInvalid wraps every validation failure of Validate.
var ErrInvalid = errors.New("invalid rules")

// Validate reports the first rule that cannot work, naming its JSON path.
func (r Rules) Validate() error {
	checks := []struct {
		ok   bool
		path string
		want string
	}{
		{r.Earning.PurchaseMinLineCents >= 0, "earning.purchaseMinLineCents", "≥ 0"},
		{r.Earning.PurchaseStepCents > 0, "earning.purchaseStepCents", "> 0"},
		{r.Earning.PurchaseMilliPointsPerYuan >= 0, "earning.purchaseMilliPointsPerYuan", "≥ 0"},
		{r.Earning.PurchaseLineCap >= 0, "earning.purchaseLineCap", "≥ 0"},
		{r.Earning.PurchaseLineCapApp >= 0, "earning.purchaseLineCapApp", "≥ 0"},
		{r.Earning.PlusMultiplier >= 1, "earning.plusMultiplier", "≥ 1"},
		{r.Earning.Review >= 0 && r.Earning.PhotoReview >= 0 && r.Earning.CheckIn >= 0 && r.Earning.FirstMobileOrderDay >= 0, "earning", "fixed rewards ≥ 0"},
		{r.Earning.PendingDays >= 0, "earning.pendingDays", "≥ 0"},
		{r.Spending.DeductionStep > 0, "spending.deductionStep", "> 0"},
		{r.Spending.DeductionMinBalance >= 0, "spending.deductionMinBalance", "≥ 0"},
		{r.Spending.DeductionMaxPercent >= 0 && r.Spending.DeductionMaxPercent <= 100, "spending.deductionMaxPercent", "in 0..100"},
		{r.Expiry.YearsAfterEarning >= 0, "expiry.yearsAfterEarning", "≥ 0"},
	}
	if len(r.Categories) == 0 {
		return fmt.Errorf("%w: categories must not be empty", ErrInvalid)
	}
	if err := r.Score.Validate(); err != nil {
		return err
	}
	if vs := r.PlusBenefits.Check(r.Categories); len(vs) > 0 {
		return fmt.Errorf("%w: plusBenefits.%s: %s", ErrInvalid, vs[0].Path, vs[0].Message)
	}
	if vs := r.PlusPlans().Check(); len(vs) > 0 {
		return fmt.Errorf("%w: plus.%s: %s", ErrInvalid, vs[0].Path, vs[0].Message)
	}
	for _, c := range checks {
		if !c.ok {
			return fmt.Errorf("%w: %s must be %s", ErrInvalid, c.path, c.want)
		}
	}
	return nil
}

// ScoreRules are the programme's score settings; a programme stored before the score
// existed gets the preset's.
func (r Rules) ScoreRules() Score {
	if r.Score.Mode == "" {
		return JDPreset().Score
	}
	return r.Score
}

// HasCategory reports whether key is one of the programme's categories.
func (r Rules) HasCategory(key string) bool {
	return slices.Contains(r.Categories, key)
}

// ValidateTimeZone reports whether name is an IANA zone the server can load.
func ValidateTimeZone(name string) error {
	if name == "" {
		return fmt.Errorf("%w: time zone is empty", ErrInvalid)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Errorf("%w: unknown time zone %q", ErrInvalid, name)
	}
	return nil
}

// Validate reports the first score setting that cannot work, naming its JSON path.
func (s Score) Validate() error {
	w, c := s.Weights, s.Coefficient
	checks := []struct {
		ok   bool
		path string
		want string
	}{
		{s.Mode == ScoreRolling || s.Mode == ScoreCumulative, "score.mode", ScoreRolling + " or " + ScoreCumulative},
		{s.WindowMonths >= 1 && s.WindowMonths <= 36, "score.windowMonths", "in 1..36"},
		{min(w.SpendYuan, w.Order, w.PurchaseDay, w.LoginDay, w.Review, w.PhotoReview, w.Answer, w.Share, w.RealName, w.BoundAccount) >= 0, "score.weights", "≥ 0"},
		{w.BoundAccountMax >= 0, "score.weights.boundAccountMax", "≥ 0"},
		{c.OrdinaryPercent > 0 && c.OrdinaryPercent <= 1000, "score.coefficient.ordinaryPercent", "in 1..1000"},
		{c.RiskPercent >= 0 && c.RiskPercent <= c.OrdinaryPercent, "score.coefficient.riskPercent", "in 0..ordinaryPercent"},
		{c.RiskBelow >= 0 && c.RiskBelow <= 100, "score.coefficient.riskBelow", "in 0..100"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("%w: %s must be %s", ErrInvalid, ch.path, ch.want)
		}
	}
	for i, b := range c.Bands {
		if b.Percent < c.OrdinaryPercent || b.Percent > 1000 || b.MinReputation < 0 || b.MinReputation > 100 ||
			b.MinCredit < 0 || b.MinCredit > 100 || b.MaxRefundPermille < 0 || b.MaxRefundPermille > 1000 {
			return fmt.Errorf("%w: score.coefficient.bands.%d needs percent ≥ ordinaryPercent, minimums in 0..100 and maxRefundPermille in 0..1000", ErrInvalid, i)
		}
		if i > 0 && b.Percent > c.Bands[i-1].Percent {
			return fmt.Errorf("%w: score.coefficient.bands must be ordered best first", ErrInvalid)
		}
	}
	return nil
}

// The operator console: each figure of the programme's analytics is one GraphQL query,
// drawn with Chart.js and shown on request ("copy query"). Every number drawn is also
// written into the DOM (data-values on a chart's canvas, data-value on a number), read back
// from the chart's own dataset, so tests and people can check it against the API.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("console-config").textContent);
  var TOKEN_KEY = "membergraph.console.token";

  var Q = {
    penetration: "query Penetration {\n  analytics {\n    penetration {\n      computedAt\n      members\n      tiers { tier { key name } atOrAbove { count of value } }\n      plus { count of value }\n    }\n  }\n}",
    pyramid: "query Pyramid {\n  analytics {\n    pyramid {\n      computedAt\n      activeMembers\n      tiers { tier { key name minScore } members { count of value } }\n      head { tiers { key } members { count of value } expectedShare }\n      middle { tiers { key } members { count of value } expectedShare }\n      tail { tiers { key } members { count of value } expectedShare }\n    }\n  }\n}",
    whatIf: "query WhatIf($thresholds: [Int!]!) {\n  analytics {\n    whatIf(input: { thresholds: $thresholds }) {\n      members\n      tiers { tier { key name } proposedMinScore current proposed }\n    }\n  }\n}",
    histogram: "query ScoreDistribution($bucketWidth: Int) {\n  analytics {\n    scoreDistribution(bucketWidth: $bucketWidth) {\n      computedAt\n      bucketWidth\n      members\n      buckets { from to members }\n    }\n  }\n}",
    liability: "query PointsLiability {\n  analytics {\n    pointsLiability {\n      computedAt\n      points\n      valueCents\n      byFunder { funding points valueCents }\n      debtPoints\n      debtValueCents\n      membersInDebt\n    }\n  }\n}",
    funnel: "query PlusFunnel($period: AnalyticsPeriodInput!) {\n  analytics {\n    plusConversion(period: $period) {\n      computedAt\n      period { from to }\n      nonMembers\n      trialStarted\n      converted { count of value }\n    }\n    plusRenewal(period: $period) {\n      computedAt\n      renewed { count of value }\n      open\n    }\n  }\n}",
    expiring: "query PointsExpiring {\n  analytics {\n    pointsExpiringNextMonth {\n      computedAt\n      month { from to }\n      points\n      valueCents\n      byFunder { funding points valueCents }\n    }\n  }\n}"
  };

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k.indexOf("data-") === 0) e.setAttribute(k, attrs[k]);
      else e[k] = attrs[k];
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function yuan(cents) { return "¥" + (cents / 100).toFixed(2); }
  function pct(v) { return (v * 100).toFixed(1) + "%"; }

  // number shows a figure and keeps it, unformatted, in data-value.
  function number(name, value, shown) {
    return el("span", { className: "num", "data-value": String(value), "data-name": name, text: shown === undefined ? String(value) : shown });
  }

  function token() { return document.getElementById("token").value.trim(); }

  function gql(query, variables) {
    var headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    return fetch(cfg.endpoint, { method: "POST", headers: headers, body: JSON.stringify({ query: query, variables: variables || {} }) })
      .then(function (r) { return r.json(); })
      .then(function (r) {
        if (r.errors && r.errors.length) throw new Error(r.errors.map(function (e) { return e.message; }).join("; "));
        return r.data.analytics;
      });
  }

  // A card holds one figure: its title, a body, the query that fetched it on request.
  function card(id, title, queryOf) {
    var body = el("div", { className: "body" });
    var pre = el("pre", { className: "query", hidden: true });
    var state = el("span", { className: "state" });
    var copy = el("button", { type: "button", className: "copy", text: "copy query" });
    copy.addEventListener("click", function () {
      var q = queryOf();
      pre.textContent = q.query + (q.variables ? "\n\n# variables\n" + JSON.stringify(q.variables, null, 2) : "");
      pre.hidden = false;
      if (navigator.clipboard) navigator.clipboard.writeText(pre.textContent).catch(function () {});
    });
    var section = el("section", { id: id, className: "card", "data-state": "loading" },
      [el("header", {}, [el("h2", { text: title }), state, copy]), body, pre]);
    return {
      section: section, body: body,
      run: function (draw) {
        var q = queryOf();
        section.setAttribute("data-state", "loading");
        state.textContent = "loading…";
        return gql(q.query, q.variables).then(function (data) {
          body.textContent = "";
          draw(data);
          section.setAttribute("data-state", "ready");
          state.textContent = "";
        }).catch(function (err) {
          section.setAttribute("data-state", "error");
          state.textContent = err.message;
        });
      }
    };
  }

  var charts = {};
  // chart draws a Chart.js chart and writes each dataset's data, as the chart holds it,
  // into the canvas's data-values (and its labels into data-labels).
  function chart(parent, name, type, labels, datasets, options) {
    if (charts[name]) charts[name].destroy();
    var canvas = el("canvas", { "data-chart": name });
    parent.appendChild(el("div", { className: "chart" }, [canvas]));
    var c = new Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, options || {})
    });
    charts[name] = c;
    canvas.setAttribute("data-labels", JSON.stringify(c.data.labels));
    canvas.setAttribute("data-values", JSON.stringify(c.data.datasets.map(function (d) { return d.data; })));
    return c;
  }

  function table(head, rows) {
    return el("table", {}, [
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows.map(function (r) {
        return el("tr", {}, r.map(function (c) { return el("td", {}, [typeof c === "object" ? c : document.createTextNode(String(c))]); }));
      }))
    ]);
  }

  function computed(at) { return el("p", { className: "at", text: "computed " + at }); }

  var main = el("main");
  var tokenInput = el("input", { id: "token", type: "password", placeholder: "ADMIN token (membergraph token --role ADMIN)", autocomplete: "off" });
  tokenInput.value = cfg.token || localStorage.getItem(TOKEN_KEY) || "";
  var reload = el("button", { type: "button", text: "reload" });
  document.body.appendChild(el("header", { className: "top" }, [
    el("h1", { text: "membergraph console" }), el("label", { text: "Token " }, [tokenInput]), reload]));
  document.body.appendChild(main);

  var serverNow = null; // the server's clock, from the first figure's computedAt

  // Penetration.
  var pen = card("penetration", "Penetration", function () { return { query: Q.penetration }; });
  function drawPenetration(a) {
    var p = a.penetration;
    serverNow = new Date(p.computedAt);
    pen.body.appendChild(el("p", {}, [document.createTextNode("Members "), number("members", p.members),
      document.createTextNode(" · PLUS "), number("plus", p.plus.count), document.createTextNode(" (" + pct(p.plus.value) + ")")]));
    pen.body.appendChild(table(["tier", "at or above", "share"], p.tiers.map(function (t) {
      return [t.tier.name, number("atOrAbove." + t.tier.key, t.atOrAbove.count), pct(t.atOrAbove.value)];
    })));
    pen.body.appendChild(computed(p.computedAt));
  }

  // The pyramid beside the what-if table the operator types.
  var pyr = card("pyramid", "Tier pyramid", function () { return { query: Q.pyramid }; });
  var whatIfThresholds = null;
  var wi = card("whatif", "What-if tier table", function () { return { query: Q.whatIf, variables: { thresholds: whatIfThresholds || [] } }; });
  function drawPyramid(a) {
    var p = a.pyramid;
    var labels = p.tiers.map(function (t) { return t.tier.name; });
    chart(pyr.body, "pyramid", "bar", labels, [{ label: "active members", data: p.tiers.map(function (t) { return t.members.count; }) }],
      { indexAxis: "y", scales: { y: { reverse: true } } });
    pyr.body.appendChild(table(["band", "tiers", "share", "rule of thumb"], ["head", "middle", "tail"].map(function (b) {
      var band = p[b];
      return [b, band.tiers.map(function (t) { return t.key; }).join(", "), number("band." + b, band.members.count, band.members.count + " (" + pct(band.members.value) + ")"), pct(band.expectedShare)];
    })));
    pyr.body.appendChild(computed(p.computedAt));
    if (!whatIfThresholds) whatIfThresholds = p.tiers.map(function (t) { return t.tier.minScore; });
    drawWhatIfForm(p.tiers);
  }
  var whatIfForm = el("form", { className: "whatif" });
  function drawWhatIfForm(tiers) {
    whatIfForm.textContent = "";
    tiers.forEach(function (t, i) {
      whatIfForm.appendChild(el("label", { text: t.tier.name + " from " }, [
        el("input", { type: "number", min: "0", name: "t" + i, value: String(whatIfThresholds[i]) })]));
    });
    whatIfForm.appendChild(el("button", { type: "submit", text: "try" }));
  }
  whatIfForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    whatIfThresholds = Array.prototype.map.call(whatIfForm.querySelectorAll("input"), function (i) { return parseInt(i.value, 10) || 0; });
    wi.run(drawWhatIf);
  });
  function drawWhatIf(a) {
    var w = a.whatIf;
    wi.body.appendChild(whatIfForm);
    chart(wi.body, "whatif", "bar", w.tiers.map(function (t) { return t.tier.name; }), [
      { label: "current", data: w.tiers.map(function (t) { return t.current; }) },
      { label: "proposed", data: w.tiers.map(function (t) { return t.proposed; }) }
    ], { indexAxis: "y", scales: { y: { reverse: true } } });
    wi.body.appendChild(table(["tier", "from", "current", "proposed"], w.tiers.map(function (t) {
      return [t.tier.name, t.proposedMinScore, number("current." + t.tier.key, t.current), number("proposed." + t.tier.key, t.proposed)];
    })));
  }

  // The score histogram.
  var bucketWidth = 500;
  var hist = card("histogram", "Score distribution", function () { return { query: Q.histogram, variables: { bucketWidth: bucketWidth } }; });
  var widthForm = el("form", {}, [el("label", { text: "bucket width " }, [el("input", { type: "number", min: "1", name: "width", value: "500" })]),
    el("button", { type: "submit", text: "draw" })]);
  widthForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    bucketWidth = parseInt(widthForm.querySelector("input").value, 10) || 500;
    hist.run(drawHistogram);
  });
  function drawHistogram(a) {
    var d = a.scoreDistribution;
    hist.body.appendChild(widthForm);
    chart(hist.body, "histogram", "bar", d.buckets.map(function (b) { return b.to === null ? b.from + "+" : b.from + "–" + (b.to - 1); }),
      [{ label: "members", data: d.buckets.map(function (b) { return b.members; }) }]);
    hist.body.appendChild(el("p", {}, [document.createTextNode("Members "), number("members", d.members)]));
    hist.body.appendChild(computed(d.computedAt));
  }

  // Liability by funder.
  var lia = card("liability", "Points liability", function () { return { query: Q.liability }; });
  function drawLiability(a) {
    var l = a.pointsLiability;
    lia.body.appendChild(el("p", {}, [document.createTextNode("Outstanding "), number("points", l.points),
      document.createTextNode(" points = "), number("valueCents", l.valueCents, yuan(l.valueCents)),
      document.createTextNode(" · debt "), number("debtPoints", l.debtPoints), document.createTextNode(" points of "),
      number("membersInDebt", l.membersInDebt), document.createTextNode(" members")]));
    chart(lia.body, "liability", "bar", l.byFunder.map(function (f) { return f.funding; }),
      [{ label: "¥ owed", data: l.byFunder.map(function (f) { return f.valueCents / 100; }) }]);
    lia.body.appendChild(table(["funder", "points", "¥"], l.byFunder.map(function (f) {
      return [f.funding, number("points." + f.funding, f.points), number("valueCents." + f.funding, f.valueCents, yuan(f.valueCents))];
    })));
    lia.body.appendChild(computed(l.computedAt));
  }

  // The PLUS funnel over a period (the 30 days before the server's now unless typed).
  var period = null;
  var fun = card("funnel", "PLUS funnel", function () { return { query: Q.funnel, variables: { period: period } }; });
  var periodForm = el("form", {}, [
    el("label", { text: "from " }, [el("input", { type: "text", name: "from", size: 24 })]),
    el("label", { text: " to " }, [el("input", { type: "text", name: "to", size: 24 })]),
    el("button", { type: "submit", text: "draw" })]);
  periodForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    period = { from: periodForm.elements.from.value.trim(), to: periodForm.elements.to.value.trim() };
    fun.run(drawFunnel);
  });
  function drawFunnel(a) {
    var c = a.plusConversion, r = a.plusRenewal;
    periodForm.elements.from.value = c.period.from;
    periodForm.elements.to.value = c.period.to;
    periodForm.setAttribute("data-from", c.period.from);
    periodForm.setAttribute("data-to", c.period.to);
    fun.body.appendChild(periodForm);
    chart(fun.body, "funnel", "bar", ["not PLUS at the start", "started a trial", "started a paid term"],
      [{ label: "members", data: [c.nonMembers, c.trialStarted, c.converted.count] }]);
    fun.body.appendChild(el("p", {}, [document.createTextNode("Conversion "), number("converted", c.converted.count),
      document.createTextNode(" of " + c.converted.of + " (" + pct(c.converted.value) + ") · renewal "),
      number("renewed", r.renewed.count), document.createTextNode(" of "), number("ended", r.renewed.of),
      document.createTextNode(" (" + pct(r.renewed.value) + "), "), number("open", r.open), document.createTextNode(" may still renew")]));
    fun.body.appendChild(computed(c.computedAt));
  }

  // Points expiring next month.
  var exp = card("expiring", "Points expiring next month", function () { return { query: Q.expiring }; });
  function drawExpiring(a) {
    var e = a.pointsExpiringNextMonth;
    exp.body.appendChild(el("p", {}, [number("points", e.points), document.createTextNode(" points = "),
      number("valueCents", e.valueCents, yuan(e.valueCents)), document.createTextNode(" lapse in (" + e.month.from + ", " + e.month.to + "]")]));
    chart(exp.body, "expiring", "doughnut", e.byFunder.map(function (f) { return f.funding; }),
      [{ label: "points", data: e.byFunder.map(function (f) { return f.points; }) }]);
    exp.body.appendChild(computed(e.computedAt));
  }

  var row1 = el("div", { className: "row" }, [pyr.section, wi.section]);
  [pen.section, row1, hist.section, lia.section, fun.section, exp.section].forEach(function (s) { main.appendChild(s); });

  function loadAll() {
    localStorage.setItem(TOKEN_KEY, token());
    Promise.all([
      pen.run(drawPenetration),
      pyr.run(drawPyramid).then(function () { return wi.run(drawWhatIf); }),
      hist.run(drawHistogram),
      lia.run(drawLiability),
      exp.run(drawExpiring)
    ]).then(function () {
      if (!period) {
        var to = serverNow || new Date();
        period = { from: new Date(to.getTime() - 30 * 24 * 3600 * 1000).toISOString(), to: to.toISOString() };
      }
      return fun.run(drawFunnel);
    }).then(function () { document.body.setAttribute("data-loaded", "true"); });
  }
  reload.addEventListener("click", loadAll);
  loadAll();
})();

/// The page's only stylesheet, served at `/static/style.css` (the Content-Security-Policy allows no inline style).
enum StyleSheet {
    static let text = """
        :root { --ink: #1d2430; --muted: #5f6b7a; --line: #d9dee5; --paper: #f6f7f9; --accent: #2458b3; --bad: #a3261b; --good: #1c7a3e; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--paper); }
        header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: var(--ink); color: #fff; }
        header a { color: #dfe6f0; text-decoration: none; }
        header .brand { font-weight: 700; color: #fff; letter-spacing: .02em; }
        nav { display: flex; gap: 1rem; flex: 1; }
        nav a[aria-current] { color: #fff; border-bottom: 2px solid #8fb3ff; }
        .sign-out button { background: transparent; color: #dfe6f0; border: 1px solid #55606f; }
        main { max-width: 78rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
        h1 { font-size: 1.5rem; margin: .6rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.8rem 0 .6rem; }
        section.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1.2rem 1rem; margin-bottom: 1rem; }
        section.card h2 { margin-top: .2rem; }
        table { width: 100%; border-collapse: collapse; background: #fff; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
        td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
        code, pre { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
        pre { background: #fff; border: 1px solid var(--line); padding: .8rem; overflow: auto; max-height: 30rem; white-space: pre-wrap; word-break: break-all; }
        .muted { color: var(--muted); }
        .notice { background: #e8f3ec; border: 1px solid #b6dcc2; color: var(--good); padding: .5rem .8rem; border-radius: 4px; }
        .error { background: #fbeceb; border: 1px solid #efc2be; color: var(--bad); padding: .5rem .8rem; border-radius: 4px; }
        .state-running { color: var(--good); font-weight: 600; }
        .state-restarting, .state-stopped { color: var(--bad); font-weight: 600; }
        .counts { display: flex; flex-wrap: wrap; gap: .6rem 1.6rem; margin: 0; padding: 0; list-style: none; }
        .counts li strong { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
        form.inline { display: inline; }
        form.filters, form.search { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-bottom: 1rem; }
        label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .2rem; }
        label.check { flex-direction: row; align-items: center; }
        input, select { font: inherit; padding: .3rem .45rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
        button { font: inherit; padding: .3rem .8rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { border-color: var(--bad); background: #fff; color: var(--bad); }
        .sign-in { max-width: 26rem; margin: 4rem auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1.2rem 1.5rem; }
        .sign-in form { display: flex; flex-direction: column; gap: .8rem; }

        """
}

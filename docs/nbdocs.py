"""Notebooks -> documentation pages, with nbdev's processors and no Quarto.

Each notebook is executed once in a `CaptureShell` (as `nbdev-test` does), with a `show_doc` cell after
every exported definition (nbdev's `add_show_docs`, ours keeping a cell's definitions in order), then passed through nbdev's processors (`hide_`,
`rm_export`, `add_links`, ...) and a few of ours that turn what Quarto would have interpreted into plain
MyST: the frontmatter title and summary, `show_doc` output as page content with stable anchors, cell
options as myst-nb tags, links to the doc host as relative links. Sphinx with myst-nb renders the result
(`docs/conf.py`); `check_links` checks the built site. `write_readme` writes README.md from
`nbs/index.ipynb` with the same processors; the sidebar's groups are the rows of that page's layer table.
"""
from __future__ import annotations
import ast, contextlib, fnmatch, functools, html.parser, importlib, inspect, json, os, re, time, traceback
from pathlib import Path
from urllib.parse import urlsplit, unquote

from fastcore.basics import ifnone, AttrDict
from fastcore.foundation import L
from fastcore.nbio import read_nb, write_nb, mk_cell, does_cell_eval, fm_default_eval
from fastcore.docments import docments, docstring, MarkdownRenderer
from nbdev.config import get_config as _get_config, nbpath2html
from nbdev.doclinks import NbdevLookup, patch_name, nbglob
from nbdev.showdoc import showdoc_nm
from nbdev.frontmatter import FrontmatterProc
from nbdev.process import NBProcessor, Processor
from nbdev import processors as P

@functools.lru_cache(None)
def get_config():
    "nbdev's config of the project (read once: nbdev parses pyproject.toml on every call)"
    return _get_config(Path(__file__).resolve().parent)

# ----------------------------------------------------------------------------------------------------
# Site layout
# ----------------------------------------------------------------------------------------------------

# The sidebar's groups are the rows of the layer table in `nbs/index.ipynb` (the README's), in its order, after a group
# of the tutorials in the order of the index's "Tutorials" list: one source, so the README and the site agree.

def nb_key(rel:str|Path) -> str:
    "The module-like name of a notebook: `13a_learner.ipynb` -> `learner`, `tutorials/x.ipynb` -> `tutorials/x`"
    return nbpath2html(Path(rel)).with_suffix('').as_posix()

def nb_number(name:str|Path) -> tuple|None:
    "The sort key of a notebook's leading number: `13a_learner` -> (13, 'a'), `14` -> (14, ''); None without one"
    m = re.match(r'(\d+)([a-z]?)(?:_|$)', Path(name).name)
    return (int(m.group(1)), m.group(2)) if m else None

_re_cell = re.compile(r'\s*\|\s*')
_re_nbs = re.compile(r'`([^`]+)`(?:\s*-\s*`([^`]+)`)?')  # `02_transform`, or a range `14`-`19a_callback.*`

def parse_layer_table(md:str) -> list[tuple]:
    "The rows of the markdown table in `md` whose header starts with `layer` and ends with `notebooks`: [(layer, [(first, last|'')])]"
    res = None
    for l in map(str.strip, md.splitlines()):
        if not l.startswith('|'):
            if res: break  # the end of the table
            continue
        cells = _re_cell.split(l.strip('|').strip())
        if res is None:
            if cells[0].lower() == 'layer' and cells[-1].lower() == 'notebooks': res = []
        elif not set(''.join(cells)) <= set('-: '): res.append((cells[0], _re_nbs.findall(cells[-1])))  # not the underline
    return res or []

def _nbs_md(rel:str='index.ipynb') -> str:
    return '\n\n'.join(c.source for c in read_nb(get_config().nbs_path/rel).cells if c.cell_type == 'markdown')

@functools.lru_cache(None)
def layer_table() -> tuple:
    "The README's layer table, read from `nbs/index.ipynb`: ((layer, ((first, last|None), ...)), ...)"
    res = parse_layer_table(_nbs_md())
    if not res: raise ValueError('nbs/index.ipynb: no table with a header `| layer | ... | notebooks |` (the docs sidebar groups are its rows)')
    return tuple((nm, tuple(ts)) for nm,ts in res)

@functools.lru_cache(None)
def tutorial_order() -> tuple:
    "The tutorials' pages in the order the index's (README's) list links them: ('tutorials/x', ...)"
    return tuple(dict.fromkeys(m for m in re.findall(r'\((?:[^)\s]*/)?(tutorials/[\w.-]+?)\.(?:html|ipynb)\)', _nbs_md())))

def _match(tok:str, rel:Path) -> bool:
    "Whether notebook `rel` is named by the table's `tok`: a stem (`13a_learner`, `19a_callback.*`), a number (`14`) or a folder (`tutorials/`)"
    if tok.endswith('/'): return rel.parts[0] == tok.rstrip('/')
    if len(rel.parts) > 1: return False
    if re.fullmatch(r'\d+[a-z]?', tok): return nb_number(tok) == nb_number(rel)
    return fnmatch.fnmatchcase(rel.stem, tok)

def _listed(rng, rel:Path) -> bool:
    "Whether notebook `rel` is listed by `rng`, a pair from the table: (token, '') or a range (first, last) of numbered notebooks"
    a,b = rng
    if not b: return _match(a, rel)
    lo,hi,k = nb_number(a),nb_number(b),nb_number(rel)
    if None in (lo, hi, k) or len(rel.parts) > 1: return False
    return lo < k < hi or (k == lo and _match(a, rel)) or (k == hi and _match(b, rel))

def _layer_name(nm:str) -> str: return nm[:1].upper() + nm[1:]

def group_of(rel:str|Path, table=None) -> str|None:
    "The sidebar group of notebook `rel` (relative to `nbs/`): its row of the layer `table` (default the index's); None for the home page"
    rel,table = Path(rel),table or layer_table()
    if rel.as_posix() == 'index.ipynb': return None
    if rel.parts[0] == 'tutorials': return 'Tutorials'
    for nm,rngs in table:
        if any(_listed(r, rel) for r in rngs): return _layer_name(nm)
    k = nb_number(rel)  # not listed (`layer_table_problems` says so): the row of the nearest listed notebook before it
    listed = sorted((nb_number(t), i) for i,(_,rngs) in enumerate(table) for r in rngs for t in r if t and nb_number(t))
    before = [i for n,i in listed if k is not None and n <= k]
    return _layer_name(table[before[-1] if before else -1][0])

def layer_table_problems(rels, table=None, tutorials=None) -> list[str]:
    "How the index's layer table and tutorials list disagree with the notebooks `rels`: what is not listed, listed twice, or listed but missing"
    table,tutorials = table or layer_table(),ifnone(tutorials, tutorial_order())
    rels,res = [Path(r) for r in rels if Path(r).as_posix() != 'index.ipynb'],[]
    for r in rels:
        rows = [nm for nm,rngs in table if any(_listed(x, r) for x in rngs)]
        if r.parts[0] == 'tutorials':
            if nb_key(r) not in tutorials: res.append(f'{r.as_posix()}: not linked in the index\'s Tutorials list')
        elif not rows: res.append(f'{r.stem}: in no row of the layer table in nbs/index.ipynb')
        elif len(rows) > 1: res.append(f'{r.stem}: in several rows of the layer table ({", ".join(rows)})')
    for nm,rngs in table:
        for x in rngs:
            if not any(_listed(x, r) for r in rels): res.append(f'`{"`-`".join(t for t in x if t)}` (layer table, {nm}): no such notebook')
    keys = {nb_key(r) for r in rels}
    res += [f'{t}: linked in the Tutorials list, no such notebook' for t in tutorials if t not in keys]
    return res

def find_notebooks(nbs:Path|None=None, only=None) -> list[Path]:
    "The notebooks of the site, relative to `nbs`, in notebook order; `only` keeps those whose stem or key is listed"
    nbs = Path(nbs or get_config().nbs_path)
    res = sorted((Path(p).relative_to(nbs) for p in nbglob(nbs)), key=lambda p: (len(p.parts) > 1, p.as_posix()))
    if only:
        want = set(only) | {'index'}
        res = [p for p in res if {p.with_suffix('').as_posix(), p.stem, nb_key(p)} & want]
    return res

def site_toc(rels, table=None, tutorials=None) -> dict:
    "Pages per sidebar group: the tutorials in the index's order, then the layer table's rows, each in notebook order: {group: [page key]}"
    table,tutorials = table or layer_table(),ifnone(tutorials, tutorial_order())
    toc = {g: [] for g in ['Tutorials'] + [_layer_name(nm) for nm,_ in table]}
    for r in rels:
        if (g := group_of(r, table)): toc[g].append(nb_key(r))
    pos = {t: i for i,t in enumerate(tutorials)}
    toc['Tutorials'].sort(key=lambda k: pos.get(k, len(pos)))  # stable: those not listed last, in notebook order
    return {g: ps for g,ps in toc.items() if ps}

# ----------------------------------------------------------------------------------------------------
# show_doc rendering: signature, docstring, docments table, source link to exact lines
# ----------------------------------------------------------------------------------------------------

def _def_ranges(py:Path) -> dict:
    "Line ranges (first decorator to last line) of the definitions in the module file `py`, by symbol name"
    res = {}
    for t in ast.parse(py.read_text(encoding='utf-8')).body:
        if not isinstance(t, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): continue
        rng = (min([t.lineno] + [d.lineno for d in t.decorator_list]), t.end_lineno)
        for n in L(patch_name(t)): res.setdefault(n, rng)
        if isinstance(t, ast.ClassDef):
            for t2 in t.body:
                if isinstance(t2, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    res.setdefault(f'{t.name}.{t2.name}', (min([t2.lineno] + [d.lineno for d in t2.decorator_list]), t2.end_lineno))
    return res

_ranges_cache = {}
def source_url(nm:str) -> str|None:
    "URL of the exact lines defining symbol `nm` in the generated module, on the repository's default branch"
    cfg,res = get_config(),NbdevLookup()[nm]
    if not isinstance(res, tuple): return None
    _,py,gh = res
    f = cfg.config_path/py
    if not f.exists(): return gh
    key = (f, f.stat().st_mtime)
    if key not in _ranges_cache: _ranges_cache[key] = _def_ranges(f)
    rng = _ranges_cache[key].get(nm)
    return f'{gh}#L{rng[0]}-L{rng[1]}' if rng else gh

def anchor_of(nm:str) -> str:
    "The HTML id nbdev's module index uses for symbol `nm` (its doc URLs end in `#<id>`)"
    res = NbdevLookup()[nm]
    url = res[0] if isinstance(res, tuple) else None
    return urlsplit(url).fragment if url and '#' in url else nm.lower()

def _fmt_anno(a) -> str:
    "An annotation as a reader writes it: `Module`, `list[int] | None` (no module paths)"
    if a is inspect.Parameter.empty: return ''
    if isinstance(a, str): return a
    if isinstance(a, type) and not getattr(a, '__args__', None): return a.__qualname__
    return re.sub(r'\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)', r'\1', inspect.formatannotation(a))

def _fmt_default(d) -> str:
    "A default value as it would be written in code: `Adam`, `partial(LeakyReLU, 0.2)`, `Foo()` for opaque objects"
    if d is inspect.Parameter.empty: return ''
    if isinstance(d, functools.partial):
        return 'partial(' + ', '.join([_fmt_default(d.func)] + [_fmt_default(a) for a in d.args] +
                                     [f'{k}={_fmt_default(v)}' for k,v in d.keywords.items()]) + ')'
    if inspect.isfunction(d) or inspect.isclass(d) or inspect.isbuiltin(d) or inspect.ismethod(d): return d.__qualname__
    r = repr(d)
    return f'{type(d).__name__}()' if r.startswith('<') else r

def _fmt_param(p:inspect.Parameter) -> str:
    pre = {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '')
    anno = f':{_fmt_anno(p.annotation)}' if p.annotation is not p.empty else ''
    dflt = f'={_fmt_default(p.default)}' if p.default is not p.empty else ''
    return pre + p.name + anno + dflt

def fmt_signature(nm:str, sig:inspect.Signature|None, width:int=88) -> str:
    "`nm(params) -> ret` on one line when it fits in `width`, else one parameter per line"
    if sig is None: return f'{nm}(...)'
    ps,star = [],False
    for p in sig.parameters.values():
        if p.kind == p.KEYWORD_ONLY and not star: ps.append('*'); star = True
        if p.kind == p.VAR_POSITIONAL: star = True
        ps.append(_fmt_param(p))
    ret = f' -> {_fmt_anno(sig.return_annotation)}' if sig.return_annotation is not sig.empty else ''
    one = f'{nm}({", ".join(ps)}){ret}'
    if len(one) <= width or not ps: return one
    return f'{nm}(\n' + ''.join(f'    {p},\n' for p in ps) + f'){ret}'

def _cell(s) -> str: return str(s).replace('|', r'\|').replace('\n', ' ')

def param_table(sym, sig:inspect.Signature|None) -> str:
    "A markdown table of `sym`'s parameters: type, default and the docments comment; '' when none is documented"
    if sig is None: return ''
    try: dm = docments(sym, full=True)
    except Exception: return ''
    doc = {k: (v.get('docment') if isinstance(v, dict) else None) for k,v in dm.items()}
    ps = [p for p in sig.parameters.values() if p.name not in ('self', 'cls')]
    ret_doc = doc.get('return')
    if not any(doc.get(p.name) for p in ps) and not ret_doc: return ''
    has_ret = bool(ret_doc) or sig.return_annotation is not sig.empty
    typed = has_ret and sig.return_annotation is not sig.empty or any(p.annotation is not p.empty for p in ps)
    dflts = any(p.default is not p.empty for p in ps)
    code = lambda o: f'`{_cell(o)}`' if o else ''
    def row(nm, anno, dflt, details):
        return '| ' + ' | '.join([nm] + ([code(anno)] if typed else []) + ([code(dflt)] if dflts else []) + [_cell(details or '')]) + ' |'
    hdr = [''] + (['Type'] if typed else []) + (['Default'] if dflts else []) + ['Details']
    rows = ['| ' + ' | '.join(hdr) + ' |', '|' + '---|' * len(hdr)]
    for p in ps:
        nm = {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '') + p.name
        rows.append(row(code(nm), _fmt_anno(p.annotation), _fmt_default(p.default), doc.get(p.name)))
    if has_ret: rows.append(row('**Returns**', _fmt_anno(sig.return_annotation), '', ret_doc))
    return '\n'.join(rows)

@functools.lru_cache(None)
def _members() -> dict:
    "{class name: anchors of its members} from the module index"
    res = {}
    for k,v in NbdevLookup().syms.items():
        if not (isinstance(v, tuple) and '#' in v[0] and '.' in k): continue
        cls,_,m = k.rpartition('.')
        res.setdefault(cls, []).append(urlsplit(v[0]).fragment)
    return res

def member_anchors(nm:str) -> list[str]:
    "Anchors of the members of class `nm` in the module index: its entry carries them, so links to them land on it"
    return _members().get(nm, [])

@functools.lru_cache(None)
def documented(members:bool=True) -> frozenset:
    "Doc URLs (`page.html#anchor`, relative to the site) the site will have: exported definitions (and, if `members`, their members)"
    cfg,res = get_config(),set()
    for rel in find_notebooks(cfg.nbs_path):
        nb = read_nb(cfg.nbs_path/rel)
        for c in nb.cells: c.directives_ = c.directives
        for c in nb.cells:
            if P._want_doc(c) and c.directives_.get('language', 'python') == 'python':
                try: nms = doc_names(c)
                except SyntaxError: continue
            elif c.cell_type == 'code' and 'show_doc' in c.source:
                try: nms = [P._get_nm(t) for t in P._show_docs(L(c.parsed_()))]
                except Exception: continue
            else: continue
            page = nb_key(rel) + '.html'  # where the entry is: a name defined in several notebooks has one index entry
            for nm in nms:
                res.add(f'{page}#{anchor_of(nm)}')
                if members: res.update(f'{page}#{a}' for a in member_anchors(nm))
    return frozenset(res)

def _sig(f):
    try: return inspect.signature(f, eval_str=True)
    except Exception:
        try: return inspect.signature(f)
        except Exception: return None

def signature_of(sym) -> inspect.Signature|None:
    "The signature `sym` is called with; for a class whose metaclass hides it behind `(*args, **kwargs)`, its `__init__`'s"
    sig = _sig(sym)
    if not inspect.isclass(sym): return sig
    kinds = [p.kind for p in sig.parameters.values()] if sig else None
    if kinds in (None, [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]) and sym.__init__ is not object.__init__:
        init = _sig(sym.__init__)
        if init is not None: return init.replace(parameters=list(init.parameters.values())[1:])
    return sig

_page = [None, {}]  # the page being rendered and the heading ids given on it, {id: name} (set by `exec_nb`)

def _is_docutils_id(a:str) -> bool:
    "Whether `a` is an id docutils could make itself (`transform`, not `learner.fit` or `show_batch`)"
    from docutils.nodes import make_id
    return make_id(a) == a

def _escape_md(s:str) -> str: return re.sub(r'([_*\\`\[\]<>])', r'\\\1', s)

def entry_head(nm:str, ids, level:int=3) -> str:
    "An entry's heading with its anchors: the first as the heading's id when docutils allows it (else a span before it)"
    ids,spans,attr = list(dict.fromkeys(ids)),[],''
    for a in ids:
        if _page[1].setdefault(a, nm) != nm: continue  # another entry of this page has it (`TypeDispatch`, `typedispatch`)
        if not attr and _is_docutils_id(a): attr = a
        else: spans.append(a)
    res = ''.join(f'<span id="{a}"></span>' for a in spans) + '\n\n' if spans else ''
    return res + (f'{{#{attr}}}\n' if attr else '') + f"{'#'*level} {_escape_md(nm)}\n"

class DocRenderer(MarkdownRenderer):
    "`show_doc` as MyST: an anchored heading, a source link to the exact lines, the signature, the docstring and a parameter table"
    def _repr_markdown_(self):
        sym,nm = self.sym,self.nm
        sig = signature_of(sym)
        if sig is not None and not inspect.isclass(sym):
            ps = list(sig.parameters.values())
            if ps and ps[0].name in ('self', 'cls') and '.' in nm: sig = sig.replace(parameters=ps[1:])
        src = source_url(nm)
        own = {u.partition('#')[2] for u in documented(members=False) if u.partition('#')[0] == _page[0]}  # entries of this page
        ids = [anchor_of(nm)] + ([a for a in member_anchors(nm) if a not in own] if inspect.isclass(sym) else [])
        parts = [entry_head(nm, ids, self.title_level),
                 f'[source]({src}){{.srclink}}\n' if src else '',
                 f'```python\n{fmt_signature(nm, sig)}\n```\n']
        doc = docstring(sym) or ''
        if doc: parts.append(f'{{.docstring}}\n{doc.strip()}\n')
        if (tbl := param_table(sym, sig)): parts.append(tbl + '\n')
        return '\n'.join(p for p in parts if p)

def _sig_types(sig) -> str: return '(' + ', '.join('|'.join(t.__name__ for t in L(ts)) for ts in sig) + ')'

class DispatchDoc:
    "`show_doc` for a type-dispatched function (nbdev shows nothing for one): each implementation's types, signature and docstring"
    def __init__(self, td, name=None, title_level=3): self.td,self.nm,self.title_level = td,name or td.name,title_level
    def _repr_markdown_(self):
        nm,fs = self.nm,list(self.td.funcs.items())
        src = source_url(nm)
        def sig(f):
            try: return fmt_signature(nm, inspect.signature(f))
            except Exception: return f'{nm}(...)'
        parts = [entry_head(nm, [anchor_of(nm)], self.title_level),
                 f'[source]({src}){{.srclink}}\n' if src else '',
                 '```python\n' + '\n'.join(sig(f) for _,f in fs) + '\n```\n',
                 f'{{.docstring}}\nDispatched on the types of its first {self.td.n} arguments:\n',
                 '| Types | Details |\n|---|---|\n' + '\n'.join(f'| `{_sig_types(t)}` | {_cell((docstring(f) or "").strip())} |' for t,f in fs) + '\n']
        if fs and (tbl := param_table(fs[0][1], _sig(fs[0][1]))): parts.append(tbl + '\n')
        return '\n'.join(p for p in parts if p)

def show_doc(sym, renderer=None, name:str|None=None, title_level:int=3):
    "nbdev's `show_doc` with our renderer, and type-dispatched functions documented too"
    from nbdev.showdoc import show_doc as nbdev_show_doc
    qn = getattr(sym, '__qualname__', None)  # `@patch` names the outer wrapper (`Learner.distrib_ctx` over a contextmanager)
    if name is None and isinstance(qn, str) and '<' not in qn: name = qn
    if type(sym).__name__ == 'TypeDispatch' and isinstance(getattr(sym, 'funcs', None), dict):
        return DispatchDoc(sym, name=name, title_level=title_level)
    return nbdev_show_doc(sym, renderer=renderer or DocRenderer, name=name, title_level=title_level)

# ----------------------------------------------------------------------------------------------------
# Processors
# ----------------------------------------------------------------------------------------------------

_re_title = re.compile(r'\A\s*#\s+(\S.*?)\s*\n(?:\s*\n)*(?:>\s*(\S.*?)\s*(?:\n|\Z))?', re.S)

class TitleFrontmatter(FrontmatterProc):
    "nbdev's frontmatter from the H1 cell, keeping whatever else that cell says (nbdev would drop the whole cell)"
    def cell(self, cell):
        if 'title' in self.fm or cell.cell_type != 'markdown' or not cell.source: return super().cell(cell)
        m = _re_title.match(cell.source)
        if not m: return super().cell(cell)
        rest = cell.source[m.end():].strip()
        if not rest or not rest.strip('-: \n'): return super().cell(cell)  # title-only cell: nbdev's rules (`- key: value` lines)
        self.fm['title'] = m.group(1)
        if m.group(2): self.fm['description'] = m.group(2)
        cell.source = rest

_re_handler = re.compile(r'(?:before|after)_\w+|__\w+__')

def _wants_entry(t) -> bool:
    "Whether definition `t` (an AST node) gets an entry: not an event handler (`before_fit`, `after_batch`...) or dunder without a docstring of its own"
    return not (_re_handler.fullmatch(t.name) and not ast.get_docstring(t))

def doc_names(cell, shown=()) -> list[str]:
    "The names an exported `cell` defines that get an entry, in source order (`Learner.fit` for a `@patch`), except those in `shown`"
    res = []
    for t in cell.parsed_() or []:
        if not isinstance(t, P._def_types) or t.name in shown or (t.name[0] == '_' and t.name[:2] != '__'): continue
        if _wants_entry(t): res += [n for n in L(showdoc_nm(t)) if n not in shown]  # nbdev only compared `t.name`
    return res

class add_show_docs(Processor):
    "nbdev's `add_show_docs` (a `show_doc` cell after each exported definition not documented already), in source order"
    def begin(self):
        nb = self.nb
        exports = L(c for c in nb.cells if P._want_doc(c))
        shown = {P._get_nm(t) for t in P._show_docs(L(nb.cells).map(lambda c: c.parsed_()).concat())}
        for cell in reversed(exports):  # from the end, so the indices of the cells above stay valid
            if P.cell_lang(cell) != 'python': raise ValueError(f"{cell.metadata.language} can't export:\n{cell.source}")
            for i,nm in enumerate(doc_names(cell, shown)):  # nbdev inserts each at `idx+1`, so a cell's entries came out reversed
                new = mk_cell(f'show_doc({nm})')
                new.has_sd = True
                nb.cells.insert(cell.idx_+1+i, new)
        nb.has_docs_ = shown or exports

def _flags(): return set(str(get_config().get('tst_flags', '')).split())

class exec_nb(Processor):
    "Execute the notebook's cells in a `CaptureShell`, as `nbdev-test` does (skipping `tst_flags` cells), keeping outputs"
    mode,timeout = 'all',None  # set on a subclass by `doc_procs` (nbdev instantiates processor classes with `nb` only)

    def begin(self):
        from execnb.shell import CaptureShell
        import nbdev.showdoc
        nbdev.showdoc.BasicMarkdownRenderer = DocRenderer
        self.path = Path(self.nb.path_)
        _page[0],_page[1] = getattr(self.nb, 'page_', None),{}
        self.flags = _flags()
        self.dflt = fm_default_eval(getattr(self.nb, 'frontmatter_', {}))
        self.k = CaptureShell(self.path)
        self.k.user_ns['show_doc'] = show_doc
        self.cwd = os.getcwd()
        os.chdir(self.path.parent)

    def _skip(self, cell):
        if cell.cell_type != 'code' or not cell.source.strip(): return True
        if self.flags & set(cell.directives_): return True
        if self.mode == 'docs': return not P._do_eval(cell)
        return not does_cell_eval(cell, self.dflt)

    def cell(self, cell):
        if self._skip(cell): return
        self.k.cell(cell, timeout=self.timeout)
        for o in cell.outputs:  # as `read_nb` gives them: text joined, not split in lines
            if isinstance(o.get('text'), list): o['text'] = ''.join(o['text'])
            for k,v in o.get('data', {}).items():
                if isinstance(v, list): o['data'][k] = ''.join(v)
        if self.mode == 'docs' and not P._is_showdoc(cell):
            cell.outputs = []  # examples show no output in this mode, and one that needs an earlier example may fail
            if not (cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}): self.k.exc = None
        if (e := self.k.exc) is not None:
            self.end()
            raise RuntimeError(f'{self.path.name}, cell {cell.idx_}:\n{cell.source}\n{type(e).__name__}: {e}') from e

    def end(self):
        if getattr(self, 'cwd', None) is None: return
        os.chdir(self.cwd); self.cwd = None
        import matplotlib.pyplot as plt
        plt.close('all')
        self.k.close()

_tag_of = {'echo': 'remove-input', 'output': 'remove-output', 'include': 'remove-cell'}

def _md_output(cell):
    "The markdown a `show_doc` cell displayed"
    for o in cell.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md: return ''.join(md) if isinstance(md, list) else md

class to_myst(Processor):
    "Make explicit what Quarto would interpret: title and summary, `show_doc` output as content, cell options as tags"
    def begin(self):
        cells,fm,self.shown = self.nb.cells,getattr(self.nb, 'frontmatter_', {}),set()
        if cells and cells[0].cell_type == 'raw' and cells[0].source.startswith('---'): cells.pop(0)
        if fm.get('title'):
            src = f"# {fm['title']}\n"
            if fm.get('description'): src += f"\n{{.description}}\n{fm['description']}\n"
            if (nbl := getattr(self.nb, 'nb_link_', None)): src += f"\n{{.nblink}}\n{nbl}\n"
            cells.insert(0, mk_cell(src, 'markdown'))

    def cell(self, cell):
        if cell.cell_type != 'code': return
        if P._is_showdoc(cell):
            md,m = _md_output(cell),re.match(r'\s*show_doc\(\s*([\w.]+)', cell.source)
            if md is None and m and cell.get('has_sd'):  # nothing to show (e.g. not callable): the anchor, so links land
                md = entry_head(m[1], [anchor_of(m[1])])
            if cell.source in self.shown: md = None  # a name defined twice is documented once, where it first appears
            self.shown.add(cell.source)
            cell.cell_type,cell.source,cell.entry_ = 'markdown',(md or ''),True
            for k in ('outputs', 'execution_count'): cell.pop(k, None)
            cell.metadata = {}
            if not md: cell.source = None
            return
        tags = [t for k,t in _tag_of.items() if str(cell.directives_.get(k, '')).lower() == 'false']
        if tags: cell.metadata['tags'] = sorted(set(cell.metadata.get('tags', [])) | set(tags))
        cell.metadata.pop('execution', None)

    def end(self):
        "A prose heading named like an entry (`## Transform` above `Transform`'s entry) gets another id, so the entry keeps its own"
        taken = set(_page[1]) if _page[0] == getattr(self.nb, 'page_', None) else set()
        if not taken: return
        from docutils.nodes import make_id
        def fix(m):
            i = make_id(re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', m.group(2)).replace('`', '').replace('*', ''))
            if i not in taken: return m.group(0)
            new,n = f'sec-{i}',1
            while new in taken: n += 1; new = f'sec-{i}-{n}'
            taken.add(new)
            return f'{{#{new}}}\n{m.group(0)}'
        for c in self.nb.cells:
            if c.cell_type == 'markdown' and c.source and not c.get('entry_'):
                c.source = re.sub(r'^(#{1,6})\s+(.+)$', fix, c.source, flags=re.M)

# PyTorch's API pages, for backticked `torch.*`, `nn.*` and `F.*` names (no nbdev index exists for torch)
_TORCH_DOCS = 'https://docs.pytorch.org/docs/stable/'
_TV_DOCS = 'https://docs.pytorch.org/vision/stable/'
_TORCH_ALIAS = {'nn': 'torch.nn', 'F': 'torch.nn.functional', 'optim': 'torch.optim', 'tv_tensors': 'torchvision.tv_tensors'}
_TORCH_PAGES = {'torch.utils.data': 'data.html', 'torch.distributed': 'distributed.html', 'torch.amp': 'amp.html',
                'torch.export': 'export.html', 'torch.fx': 'fx.html', 'torch.backends': 'backends.html',
                'torch.multiprocessing': 'multiprocessing.html', 'torch.utils.checkpoint': 'checkpoint.html',
                'torch.utils.tensorboard': 'tensorboard.html', 'torch.nn.attention': 'nn.attention.html'}
_TORCH_NAMES = {'torch.Tensor': 'tensors.html', 'torch.autocast': 'amp.html#torch.autocast', 'torch.nn': 'nn.html',
                'torch.optim': 'optim.html', 'torch.nn.functional': 'nn.functional.html', 'torch.dtype': 'tensor_attributes.html#torch.dtype',
                'torch.device': 'tensor_attributes.html#torch.device', 'torch': 'torch.html', 'torch.nn.init': 'nn.init.html'}

def _resolve(name):
    "The object `name` (dotted, from an importable package) names, or None"
    parts = name.split('.')
    for i in range(len(parts), 0, -1):
        try: o = importlib.import_module('.'.join(parts[:i]))
        except Exception: continue
        try:
            for a in parts[i:]: o = getattr(o, a)
            return o
        except AttributeError: return None
    return None

def torch_doc(sym:str) -> str|None:
    "URL of PyTorch's (or torchvision's) documentation for a backticked `sym`, or None"
    pre,_,post = sym.partition('.')
    full = f'{_TORCH_ALIAS[pre]}.{post}' if pre in _TORCH_ALIAS and post else _TORCH_ALIAS.get(sym, sym)
    if not full.startswith(('torch.', 'torchvision.')) and full != 'torch': return None
    if any(p.startswith('_') for p in full.split('.')): return None
    if full in _TORCH_NAMES: return _TORCH_DOCS + _TORCH_NAMES[full]
    if _resolve(full) is None: return None
    if full.startswith('torchvision.'): return f'{_TV_DOCS}generated/{full}.html'
    for mod,page in _TORCH_PAGES.items():
        if full == mod: return _TORCH_DOCS + page
        if full.startswith(mod + '.'): return f'{_TORCH_DOCS}{page}#{full}'
    if inspect.ismodule(_resolve(full)): return None
    return f'{_TORCH_DOCS}generated/{full}.html'

class Lookup(NbdevLookup):
    "nbdev's symbol lookup (ours and other nbdev libraries'), falling back to PyTorch's API pages"
    def doc(self, sym):
        url = super().doc(sym)
        if url and url.startswith(doc_base()): return url if url[len(doc_base()):] in documented() else None
        return url or torch_doc(sym)

def add_links(cell):
    "nbdev's `add_links`, with PyTorch names linked too"
    if cell.cell_type == 'markdown': cell.source = Lookup().linkify(cell.source)

@functools.lru_cache(None)
def doc_base() -> str:
    "The site's root URL, e.g. https://mylib-dev.github.io/mylib/"
    cfg = get_config()
    return f"{cfg.doc_host.rstrip('/')}/{cfg.doc_baseurl.strip('/')}/".replace('//', '/').replace(':/', '://')

_re_mdlink = re.compile(r'(\]\()([^)\s]+)(\))')

class rel_links(Processor):
    "Links to the doc host and to notebooks become links relative to this page, so the site works wherever it is served"
    def begin(self):
        self.base,self.page = doc_base(),self.nb.page_

    def _fix(self, m):
        url = m.group(2)
        if url.startswith(self.base): url = url[len(self.base):]
        elif urlsplit(url).scheme or url.startswith('#'): return m.group(0)
        else:  # a link written in the notebook: `x.ipynb` -> `x.html`
            path,_,frag = url.partition('#')
            if not path.endswith('.ipynb'): return m.group(0)
            url = str(Path(path).parent/nb_key(Path(path).name)) + '.html' + (f'#{frag}' if frag else '')
            return f'{m.group(1)}{url}{m.group(3)}'
        depth = self.page.count('/')
        return f"{m.group(1)}{'../'*depth}{url}{m.group(3)}"

    def cell(self, cell):
        if cell.cell_type == 'markdown': cell.source = _re_mdlink.sub(self._fix, cell.source)

def doc_procs(exec_mode='all', timeout=None):
    "The processors, in order: nbdev's, with our execution and MyST steps where Quarto's would be"
    ex = type('exec_nb', (exec_nb,), dict(mode=exec_mode, timeout=timeout))
    procs = [TitleFrontmatter, P.populate_language, add_show_docs, P.hide_line, P.filter_stream_, P.rm_header_dash]
    return procs + [ex, P.strip_ansi, P.rm_export, P.ai_magics, P.clean_magics, P.hide_, P.mv_exports, to_myst,
                    add_links, rel_links, P.strip_hidden_metadata]

def _nb_link(rel:Path) -> str:
    cfg = get_config()
    nbs = cfg.nbs_path.relative_to(cfg.config_path).as_posix()
    return f"[{nbs}/{rel.as_posix()}]({cfg.git_url}/blob/{cfg.branch}/{nbs}/{rel.as_posix()})"

_CELL_KEYS = {'code': {'cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count'},
              'markdown': {'cell_type', 'id', 'metadata', 'source', 'attachments'},
              'raw': {'cell_type', 'id', 'metadata', 'source', 'attachments'}}

def _clean(nb):
    "Drop what the processors attached to `nb` and its cells, so it is plain nbformat"
    for k in [k for k in nb if k.endswith('_')]: del nb[k]
    for c in nb.cells:
        for k in [k for k in c if k not in _CELL_KEYS[c.cell_type]]: del c[k]

@contextlib.contextmanager
def _in_test():
    "Run as `nbdev-test` does: with `IN_TEST` set, so `nbdev_export()` in a notebook does nothing"
    prev = os.environ.get('IN_TEST')
    os.environ['IN_TEST'] = '1'
    try: yield
    finally:
        if prev is None: os.environ.pop('IN_TEST', None)
        else: os.environ['IN_TEST'] = prev

def process_nb(rel:str|Path, dest:Path|None=None, exec_mode:str='all', timeout:int|None=None):
    "Process notebook `rel` (relative to `nbs/`) into a page notebook; write it to `dest` if given"
    cfg = get_config()
    rel = Path(rel)
    nb = read_nb(cfg.nbs_path/rel)
    nb.page_ = nbpath2html(rel).as_posix()
    if rel.as_posix() != 'index.ipynb': nb.nb_link_ = f'Source: {_nb_link(rel)}'
    if nb.metadata.get('jupytext'): del nb.metadata['jupytext']
    with _in_test(): NBProcessor(nb=nb, procs=doc_procs(exec_mode, timeout), rm_directives=True).process()
    nb.metadata = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'},
                   'language_info': {'name': 'python'}}
    _clean(nb)
    if dest is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_nb(nb, dest)
    return nb

def _init_worker(start_method):
    "Workers are spawned clean, but the notebooks' own processes (DataLoader workers) start as `nbdev-test`'s do"
    import multiprocessing as mp
    mp.set_start_method(start_method, force=True)

def _worker(args):
    "Process one notebook in a worker process; (rel, seconds, error or None)"
    rel,dest,exec_mode,timeout,keep_going = args
    t0 = time.time()
    try: process_nb(rel, Path(dest), exec_mode, timeout); err = None
    except Exception as e:
        err = f'{e}' if isinstance(e, RuntimeError) else traceback.format_exc()
        if keep_going:  # the page still renders (the API reference if it can) and says what failed
            msg = err.strip().splitlines()[-1]
            warn = mk_cell(f":::{{warning}}\nThis page's examples failed to run when the docs were built, so their "
                           f"outputs are missing:\n\n    {msg}\n:::\n", 'markdown')
            try: nb = process_nb(rel, None, 'docs', timeout)
            except Exception: nb = AttrDict(cells=[mk_cell(f'# {nb_key(rel)}', 'markdown')], metadata={}, nbformat=4, nbformat_minor=5)
            nb.cells.insert(1, warn)
            _clean(nb)
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            write_nb(nb, Path(dest))
    return str(rel), time.time()-t0, err

def process_all(rels, src:Path, exec_mode='all', jobs:int=2, timeout=None, keep_going=False, log=print):
    "Process notebooks `rels` into `src/<page>.ipynb` with `jobs` worker processes; ({rel: seconds}, {rel: error})"
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed
    args = [(str(r), str(src/nbpath2html(r).with_suffix('.ipynb')), exec_mode, timeout, keep_going) for r in rels]
    times,errs = {},{}
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=mp.get_context('spawn'),
                             initializer=_init_worker, initargs=(mp.get_start_method(),)) as ex:
        for f in as_completed([ex.submit(_worker, a) for a in args]):
            rel,secs,err = f.result()
            times[rel] = secs
            if err: errs[rel] = err
            log(f'  {"FAILED" if err else "ok"} {rel} ({secs:.1f}s)')
    return times,errs

def add_toctree(index_nb:Path, toc:dict):
    "Append the site's navigation (one hidden toctree per group) to the home page notebook"
    nb = json.loads(index_nb.read_text())
    src = ''.join(f"```{{toctree}}\n:caption: {g}\n:hidden:\n\n" + '\n'.join(ps) + '\n```\n\n' for g,ps in toc.items())
    nb['cells'].append({'cell_type': 'markdown', 'metadata': {}, 'source': src.strip() + '\n', 'id': 'site-toc'})
    index_nb.write_text(json.dumps(nb, indent=1))

# ----------------------------------------------------------------------------------------------------
# README.md from nbs/index.ipynb
# ----------------------------------------------------------------------------------------------------

def readme_md(index:str='index.ipynb') -> str:
    "The README's markdown: `nbs/index.ipynb` through the docs' processors (code cells run only if it has any)"
    cfg = get_config()
    nb = read_nb(cfg.nbs_path/index)
    has_code = any(c.cell_type == 'code' and c.source.strip() for c in nb.cells)
    procs = [TitleFrontmatter, P.populate_language, P.hide_line, P.rm_header_dash]
    if has_code: procs.append(exec_nb)
    procs += [P.strip_ansi, P.rm_export, P.clean_magics, P.hide_, P.strip_hidden_metadata]
    with _in_test(): NBProcessor(nb=nb, procs=procs, rm_directives=True).process()
    fm = getattr(nb, 'frontmatter_', {})
    out = []
    if fm.get('title'): out.append(f"# {fm['title']}")
    if fm.get('description'): out.append(f"> {fm['description']}")
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.startswith('---'): continue
        if c.cell_type == 'markdown': out.append(c.source.strip())
        elif c.cell_type == 'code':
            out.append(f"```python\n{c.source.strip()}\n```")
            for o in c.get('outputs', []):
                txt = o.get('text') if o.get('output_type') == 'stream' else o.get('data', {}).get('text/plain')
                if txt: out.append("```\n" + (''.join(txt) if isinstance(txt, list) else txt).rstrip() + "\n```")
    return '\n\n'.join(s for s in out if s) + '\n'

def write_readme(dest:Path|None=None) -> bool:
    "Write README.md (default: next to pyproject.toml) from `nbs/index.ipynb`; True if it changed"
    cfg = get_config()
    dest = Path(dest or cfg.config_path/cfg.get('readme_file', 'README.md'))
    md = readme_md(cfg.get('readme_nb', 'index.ipynb'))
    if dest.exists() and dest.read_text(encoding='utf-8') == md: return False
    dest.write_text(md, encoding='utf-8')
    return True

# ----------------------------------------------------------------------------------------------------
# Link check over the built site
# ----------------------------------------------------------------------------------------------------

class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids,self.links = set(),[]
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ('id', 'name'):
            if a.get(k) and (k == 'id' or tag == 'a'): self.ids.add(a[k])
        for k in ('href', 'src'):
            if a.get(k) and not (tag == 'link' and 'preconnect' in (a.get('rel') or '')): self.links.append((tag, a[k]))

def check_links(site:Path, base:str|None=None, partial:bool=False):
    "Broken internal links in the built `site`: [(page, url, why)]; links into pages not built count only if not `partial`"
    site,base = Path(site),ifnone(base, doc_base())
    pages = {p.relative_to(site).as_posix(): p for p in site.rglob('*.html')}
    parsed = {}
    def parse(rel):
        if rel not in parsed:
            p = _Links(); p.feed(pages[rel].read_text(encoding='utf-8', errors='replace')); parsed[rel] = p
        return parsed[rel]
    broken = []
    for rel in sorted(pages):
        for tag,url in parse(rel).links:
            if url.startswith(base): url = os.path.relpath(url[len(base):] or 'index.html', Path(rel).parent.as_posix() or '.')
            u = urlsplit(url)
            if u.scheme or url.startswith('//'): continue
            path = unquote(u.path)
            target = (Path(rel).parent/path).as_posix() if path else rel
            target = os.path.normpath(target).replace(os.sep, '/')
            if path.endswith('/') or (path and (site/target).is_dir()): target = f'{target}/index.html'.replace('//', '/')
            if target.startswith('..'): broken.append((rel, url, 'outside the site')); continue
            if not (site/target).exists():
                if not (partial and target.endswith('.html')): broken.append((rel, url, 'no such file'))
                continue
            if u.fragment and target.endswith('.html') and target in pages and u.fragment not in parse(target).ids:
                broken.append((rel, url, f'no id "{u.fragment}" in {target}'))
    return broken

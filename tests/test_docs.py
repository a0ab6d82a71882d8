"""The documentation site: built from the notebooks, opened in headless Chromium, links checked.

The default run builds the home page and three API pages (Transform, Data block, Learner) into a temporary
folder and browses them; `pytest -m slow tests/test_docs.py` builds the whole site and checks every link.
Screenshots land in `docs/_build/test-artifacts/`.
"""
import functools, http.server, importlib.util, os, re, shutil, sys, tempfile, threading
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'docs'))
import nbdocs
_spec = importlib.util.spec_from_file_location('mylib_docs_build', ROOT/'docs'/'build.py')  # not `build`: a common name
docs_build = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(docs_build)

ARTIFACTS = ROOT/'docs'/'_build'/'test-artifacts'
PAGES = ['02_transform', '06_data.block', '13a_learner']

# ---------------------------------------------------------------------------------------------------
# Without a browser: the pieces the site is made of
# ---------------------------------------------------------------------------------------------------

_TABLE = nbdocs.parse_layer_table("""
Some prose, then the table:

| layer | what it gives you | notebooks |
|---|---|---|
| foundation | tensors | `00_torch_core`, `02_transform` |
| mid level | the loop | `10_layers`, `13a_learner`, `14`-`19a_callback.*`, `20_interpret` |
| applications | models | `21_vision.learner`, `tutorials/` |

| another | table |
|---|---|
""")

def test_layer_table_is_parsed():
    assert _TABLE == [('foundation', [('00_torch_core', ''), ('02_transform', '')]),
                      ('mid level', [('10_layers', ''), ('13a_learner', ''), ('14', '19a_callback.*'), ('20_interpret', '')]),
                      ('applications', [('21_vision.learner', ''), ('tutorials/', '')])]

def test_groups_are_the_rows_of_the_layer_table():
    g = lambda n: nbdocs.group_of(n, _TABLE)
    assert g('index.ipynb') is None and g('tutorials/quickstart.ipynb') == 'Tutorials'
    assert [g(n) for n in ('00_torch_core.ipynb', '02_transform.ipynb')] == ['Foundation'] * 2
    assert [g(n) for n in ('10_layers.ipynb', '14_callback.schedule.ipynb', '18c_distributed.ipynb', '19a_callback.tensorboard.ipynb',
                           '20_interpret.ipynb')] == ['Mid level'] * 5
    assert g('21_vision.learner.ipynb') == 'Applications'
    assert g('13b_metrics.ipynb') == 'Mid level' and g('01_dispatch.ipynb') == 'Foundation'  # not listed: the row of the one before
    assert g('40_tabular.core.ipynb') == 'Applications'
    toc = nbdocs.site_toc([Path(p) for p in ('index.ipynb', 'tutorials/b.ipynb', 'tutorials/a.ipynb', '00_torch_core.ipynb', '13a_learner.ipynb')],
                          _TABLE, tutorials=('tutorials/b',))
    assert toc == {'Tutorials': ['tutorials/b', 'tutorials/a'], 'Foundation': ['torch_core'], 'Mid level': ['learner']}

def test_a_layer_table_that_disagrees_with_the_notebooks_is_reported():
    rels = [Path(p) for p in ('index.ipynb', '00_torch_core.ipynb', '01_dispatch.ipynb', '13a_learner.ipynb', '14_callback.schedule.ipynb', '19b_callback.foo.ipynb',
                              '21_vision.learner.ipynb', 'tutorials/a.ipynb')]
    assert nbdocs.layer_table_problems(rels, _TABLE, tutorials=('tutorials/a', 'tutorials/gone')) == [
        '01_dispatch: in no row of the layer table in nbs/index.ipynb',
        '19b_callback.foo: in no row of the layer table in nbs/index.ipynb',  # `19a_callback.*` ends the range
        '`02_transform` (layer table, foundation): no such notebook', '`10_layers` (layer table, mid level): no such notebook',
        '`20_interpret` (layer table, mid level): no such notebook', 'tutorials/gone: linked in the Tutorials list, no such notebook']

def test_readme_layer_table_lists_every_notebook_once():
    "The README's table (nbs/index.ipynb) is the sidebar's source: a notebook it does not list, or lists twice, fails here"
    assert nbdocs.layer_table_problems(nbdocs.find_notebooks()) == []

def test_every_notebook_is_a_page_in_order():
    rels = nbdocs.find_notebooks()
    assert rels[0].name.startswith('00_') and Path('index.ipynb') in rels
    toc = nbdocs.site_toc(rels)
    assert list(toc)[0] in ('Tutorials', 'Foundation') and sum(map(len, toc.values())) == len(rels) - 1
    assert toc['Foundation'][:2] == ['torch_core', 'serialize'] and toc['Mid level'].index('learner') > 0
    assert list(toc)[1:] == [nm[0].upper() + nm[1:] for nm,_ in nbdocs.layer_table()]  # the README's rows, in order

def _f(n_epoch:int, # number of epochs
       lr=None, # learning rate
       *, cbs:list|None=None) -> float: # the final loss
    "Train for `n_epoch` epochs."

def test_signature_and_parameter_table():
    import inspect
    sig = inspect.signature(_f)
    assert nbdocs.fmt_signature('fit', sig) == 'fit(n_epoch:int, lr=None, *, cbs:list | None=None) -> float'
    assert nbdocs.fmt_signature('fit', sig, width=20).splitlines()[:2] == ['fit(', '    n_epoch:int,']
    tbl = nbdocs.param_table(_f, sig).splitlines()
    assert tbl[0] == '|  | Type | Default | Details |'
    assert tbl[2] == '| `n_epoch` | `int` |  | number of epochs |'
    assert tbl[-1] == '| **Returns** | `float` |  | the final loss |'

def test_signature_of_a_class_is_its_init():
    from mylib.transform import Transform  # its metaclass's `__call__` hides the signature from `inspect.signature`
    assert nbdocs.fmt_signature('Transform', nbdocs.signature_of(Transform)) == 'Transform(enc=None, dec=None, split_idx=None, order=None)'

def test_title_cell_gives_title_and_summary_and_keeps_the_rest():
    from fastcore.basics import AttrDict
    from fastcore.nbio import mk_cell
    def run(src):
        nb = AttrDict(cells=[mk_cell(src, 'markdown')], metadata={}, path_='nbs/00_x.ipynb')
        nbdocs.NBProcessor(nb=nb, procs=[nbdocs.TitleFrontmatter]).process()
        return nb.frontmatter_, [c.source for c in nb.cells if c.cell_type == 'markdown']
    fm,md = run('# Learner\n\n> One loop\n\nA `Learner` holds...\n\n> a quote, not a summary')
    assert (fm['title'], fm['description'], md) == ('Learner', 'One loop', ['A `Learner` holds...\n\n> a quote, not a summary'])
    fm,md = run('# Learner\n> One loop')
    assert (fm['title'], fm['description'], md) == ('Learner', 'One loop', [])

def _entries(src_cells):
    "The cells of a notebook of `src_cells` (code if they start with `#|`, else markdown) after our `add_show_docs`"
    from fastcore.basics import AttrDict
    from fastcore.nbio import mk_cell
    cells = [mk_cell(s, 'code' if s.startswith('#|') else 'markdown') for s in src_cells]
    for i,c in enumerate(cells): c.idx_ = i  # as `read_nb` numbers them
    nb = AttrDict(cells=cells, metadata={}, path_='nbs/00_x.ipynb')
    nbdocs.NBProcessor(nb=nb, procs=[nbdocs.add_show_docs]).process()
    return [c.source for c in nb.cells]

def test_a_cells_entries_come_in_source_order_without_empty_handlers():
    defs = '\n'.join(['#| export', 'def b(): "B"', 'def a(): "A"',
                      '@patch', 'def before_fit(self:Foo): pass',                 # an event handler, undocumented: no entry
                      '@patch', 'def after_batch(self:Foo): "Log the loss"',     # documented: an entry
                      '@patch', "def __repr__(self:Foo): return 'Foo'",          # a dunder, undocumented: no entry
                      '@patch', 'def __len__(self:Foo): "Number of items"',
                      'class C: pass', 'def _private(): pass'])
    assert _entries(['# T', defs, 'Why `a`...', '#| export\ndef z(): pass\ndef y(): pass']) == [
        '# T', defs.partition('\n')[2], 'show_doc(b)', 'show_doc(a)', 'show_doc(Foo.after_batch)', 'show_doc(Foo.__len__)',
        'show_doc(C)', 'Why `a`...', 'def z(): pass\ndef y(): pass', 'show_doc(z)', 'show_doc(y)']

def _headings(nb) -> list[str]:
    "The entries' names on a processed page, in order"
    return [m.replace('\\', '') for c in nb.cells if c.cell_type == 'markdown' for m in re.findall(r'^### (.+)$', c.source, re.M)]

def test_entries_on_a_page_follow_the_notebook():
    hs = _headings(nbdocs.process_nb('13b_metrics.ipynb', exec_mode='docs'))  # about 5 s: only what `show_doc` needs runs
    for one_cell in (['accuracy', 'error_rate', 'top_k_accuracy', 'accuracy_multi'], ['mse', 'mae', 'msle'],
                     ['Precision', 'Recall', 'FBeta', 'F1Score']):
        i = hs.index(one_cell[0])
        assert hs[i:i+len(one_cell)] == one_cell, hs
    assert hs.index('AccumMetric') < hs.index('AccumMetric.prep') < hs.index('AccumMetric.value')

def test_undocumented_event_handlers_link_to_their_class():
    assert 'callback.checkpoint.html#checkpoint' in nbdocs.documented(members=False)
    assert 'callback.checkpoint.html#checkpoint.before_fit' not in nbdocs.documented(members=False)  # no entry of its own
    assert 'callback.checkpoint.html#checkpoint.before_fit' in nbdocs.documented()  # Checkpoint's entry carries its anchor

def test_source_links_point_at_the_exact_lines():
    url = nbdocs.source_url('Learner.fit')
    m = re.fullmatch(r'https://github.com/mylib-dev/mylib/blob/main/mylib/learner.py#L(\d+)-L(\d+)', url)
    assert m, url
    lines = (ROOT/'mylib'/'learner.py').read_text().splitlines()[int(m[1])-1:int(m[2])]
    assert any(l.lstrip().startswith('def fit(') for l in lines[:3]) and lines[-1].strip()

def test_backticks_link_to_our_pages_and_pytorch():
    lk,base = nbdocs.Lookup(),nbdocs.doc_base()
    assert lk.doc('Transform') == base + 'transform.html#transform'
    assert lk.doc('_step') is None  # no entry for a private helper, so no link to a missing anchor
    assert nbdocs.torch_doc('nn.Module') == 'https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html'
    assert nbdocs.torch_doc('torch.utils.data.DataLoader') == 'https://docs.pytorch.org/docs/stable/data.html#torch.utils.data.DataLoader'
    assert nbdocs.torch_doc('torch.no_such_thing') is None and nbdocs.torch_doc('numpy.ndarray') is None

def test_readme_is_generated_from_the_index_notebook():
    assert (ROOT/'README.md').read_text(encoding='utf-8') == nbdocs.readme_md(), 'run `python tools/readme.py`'

def test_link_checker_finds_broken_links(tmp_path):
    (tmp_path/'a.html').write_text('<a href="b.html#x">b</a><a href="b.html#nope">?</a><img src="img/missing.png">'
                                   '<a href="https://example.com/">ext</a><a href="#top">top</a><p id="top"></p>')
    (tmp_path/'b.html').write_text('<span id="x"></span><a href="c.html">not built</a>')
    assert nbdocs.check_links(tmp_path, base='https://x.invalid/') == [
        ('a.html', 'b.html#nope', 'no id "nope" in b.html'), ('a.html', 'img/missing.png', 'no such file'),
        ('b.html', 'c.html', 'no such file')]
    assert len(nbdocs.check_links(tmp_path, base='https://x.invalid/', partial=True)) == 2

def _bare_env():
    "No virtual environment activated: PATH without this interpreter's folder, only PYTHONPATH for this tree"
    return {'PATH': '/usr/bin:/bin', 'HOME': os.environ.get('HOME', '/tmp'), 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}

def test_tools_run_without_an_activated_environment(tmp_path):
    import subprocess
    r = subprocess.run(docs_build.console_script('nbdev-export') + ['--help'], env=_bare_env(), capture_output=True, text=True)
    assert r.returncode == 0 and 'usage: nbdev-export' in r.stdout, r.stderr
    out = tmp_path/'html'  # the export is left out here: it would write into the tree
    r = subprocess.run([sys.executable, str(ROOT/'docs'/'build.py'), '--only', '10_layers', '--exec', 'docs', '--no-export', '--jobs', '1',
                        '--out', str(out)], env=_bare_env(), cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'id="sigmoidrange"' in (out/'layers.html').read_text()

# ---------------------------------------------------------------------------------------------------
# In a browser
# ---------------------------------------------------------------------------------------------------

BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync']

def _chromium():
    exe = os.environ.get('MYLIB_CHROMIUM') or next(filter(None, map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome'))), None)
    if exe is None:
        msg = 'no Chromium found (Debian: `apt-get install chromium`; or set MYLIB_CHROMIUM)'
        if os.environ.get('MYLIB_REQUIRE_BROWSER') or os.environ.get('CI'): pytest.fail(msg)
        pytest.skip(msg)
    return exe

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')/'html'
    res = docs_build.build(out, only=PAGES, export=False, jobs=2, log=lambda *a: None)
    assert res['broken'] == [] and res['warnings'] == []
    return out

@pytest.fixture(scope='module')
def server(site):
    "The built site over HTTP, as GitHub Pages serves it"
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_port}'
    srv.shutdown()

@pytest.fixture(scope='module')
def browser():
    exe = _chromium()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=exe, args=BROWSER_ARGS, headless=True,
                                                   viewport={'width': 1280, 'height': 900})
        yield ctx
        ctx.close()

@pytest.fixture
def page(browser):
    "A fresh tab that records console errors, uncaught exceptions and failed requests in `page.problems`"
    pg = browser.new_page()
    pg.problems = []
    pg.on('console', lambda m: pg.problems.append(f'console {m.type}: {m.text}') if m.type == 'error' else None)
    pg.on('pageerror', lambda e: pg.problems.append(f'uncaught: {e}'))
    pg.on('requestfailed', lambda r: pg.problems.append(f'failed request: {r.url}'))
    yield pg
    pg.close()

def _shot(pg, name, **kw):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS/f'{name}.png'), **kw)

@pytest.mark.parametrize('name', ['index', 'transform', 'learner'])
def test_pages_load_without_errors(page, server, name):
    page.goto(f'{server}/{name}.html', wait_until='load')
    assert page.locator('article h1').first.is_visible()
    assert page.problems == []
    _shot(page, f'page-{name}')

def test_learner_page_shows_fit_signature_and_parameters(page, server):
    page.goto(f'{server}/learner.html#learner.fit', wait_until='load')
    sec = page.locator('section:has(> h3:text-is("Learner.fit"))')
    sig = sec.locator('div.highlight pre').first
    assert sig.is_visible() and re.sub(r'\s+', '', sig.inner_text()).startswith('Learner.fit(n_epoch:int,lr=None') # one line, or one argument a line
    rows = sec.locator('table tbody tr')
    assert [rows.nth(i).locator('td').first.inner_text() for i in range(rows.count())] == ['n_epoch', 'lr', 'wd', 'cbs', 'reset_opt', 'start_epoch', 'start_batch']
    assert sec.locator('table thead').inner_text().split() == ['Type', 'Default', 'Details']
    assert 'number of epochs' in rows.first.inner_text()
    src = sec.locator('a.srclink').get_attribute('href')
    assert re.fullmatch(r'https://github.com/mylib-dev/mylib/blob/main/mylib/learner.py#L\d+-L\d+', src)
    page.wait_for_timeout(500)  # the anchor scrolls into view
    top = page.evaluate("document.getElementById('learner.fit').getBoundingClientRect().top")
    assert 0 <= top < page.evaluate("window.innerHeight") / 2, top # the anchor brought the entry into the top of the view
    _shot(page, 'learner-fit')
    assert page.problems == []

def test_backticked_transform_in_prose_links_to_its_page(page, server):
    page.goto(f'{server}/index.html', wait_until='load')  # "reversible `Transform`s" in the home page's prose
    link = page.locator('article p a.reference:has(> code)', has_text=re.compile(r'^Transform$')).first
    if not link.count(): link = page.locator('article a.reference:has(> code)', has_text=re.compile(r'^Transform$')).first
    assert link.locator('code').count() == 1  # a backticked name, rendered as code inside the link
    link.click()
    page.wait_for_url(re.compile(r'/transform\.html#transform$'))
    assert page.locator('article h1').first.inner_text().startswith('Transforms and pipelines')
    page.wait_for_timeout(500)
    assert 0 <= page.evaluate("document.getElementById('transform').getBoundingClientRect().top") < 300
    assert page.locator('section:has(> h3:text-is("Transform")) div.highlight pre').first.is_visible()
    assert page.problems == []

def test_search_finds_datablock(page, server):
    page.goto(f'{server}/index.html', wait_until='load')
    page.fill('input[name=q]', 'DataBlock')
    page.press('input[name=q]', 'Enter')
    hits = page.locator('#search-results li a')
    hits.first.wait_for(timeout=30_000)
    hrefs = [hits.nth(i).get_attribute('href') for i in range(hits.count())]
    assert any(h.startswith('data.block.html') for h in hrefs), hrefs
    _shot(page, 'search-datablock')
    page.locator('#search-results li a[href^="data.block.html"]').first.click()
    page.wait_for_url(re.compile(r'/data\.block\.html'))
    assert page.locator('article h1').first.inner_text().startswith('Data block')
    assert page.problems == []

def test_figure_from_a_notebook_output_is_displayed(page, server):
    page.goto(f'{server}/learner.html', wait_until='load')
    img = page.locator('div.cell_output img').first
    img.scroll_into_view_if_needed()
    assert img.is_visible()
    w,h = img.evaluate('i => [i.naturalWidth, i.naturalHeight]')
    assert w > 100 and h > 100
    img.screenshot(path=str(ARTIFACTS/'learner-figure.png'))
    assert page.problems == []

def test_no_internal_link_is_broken(site):
    assert nbdocs.check_links(site, partial=True) == []
    html = (site/'learner.html').read_text()
    assert 'href="transform.html#transform"' in html or 'href="data.core.html#dataloaders"' in html

def test_rendered_entries_follow_the_notebook(site):
    "One cell of 13a_learner defines these, in this order; so their entries come on the page"
    hs = re.findall(r'<h3>([^<]+)', (site/'learner.html').read_text())
    i = hs.index('Metric')
    assert hs[i:i+5] == ['Metric', 'AvgMetric', 'AvgLoss', 'AvgSmoothLoss', 'Learner.metrics'], hs

@pytest.mark.slow
def test_full_site_builds_with_every_link_resolving(tmp_path):
    res = docs_build.build(tmp_path/'html', export=False, log=print)
    assert res['broken'] == []
    site = res['out']
    for p in res['pages']: assert (site/f'{p}.html').exists(), p
    ids = {}
    for url in nbdocs.documented():  # every target a backticked name can link to exists
        page,_,frag = url.partition('#')
        if page not in ids: ids[page] = set(re.findall(r'id="([^"]+)"', (site/page).read_text()))
        assert frag in ids[page], url

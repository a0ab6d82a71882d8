"Sphinx configuration of the documentation site: the pages are notebooks processed by `docs/build.py`."
import re
from pathlib import Path
from nbdev.config import get_config

_cfg = get_config(Path(__file__).parent)
_version = re.search(r'__version__\s*=\s*["\']([^"\']+)', (_cfg.lib_path/'__init__.py').read_text()).group(1)

project = _cfg.lib_name
author = f'{_cfg.lib_name} developers'
copyright = author
release = version = _version
root_doc = 'index'

extensions = ['myst_nb', 'sphinx.ext.githubpages']
exclude_patterns = ['**.ipynb_checkpoints', '_build']

# Pages arrive executed and processed: render them as they are.
nb_execution_mode = 'off'
nb_merge_streams = True
nb_output_stderr = 'show'
myst_enable_extensions = ['attrs_inline', 'attrs_block', 'colon_fence', 'dollarmath', 'deflist', 'html_image']
myst_heading_anchors = 0
myst_all_links_external = True  # links arrive resolved (relative .html or absolute); docs/build.py checks them
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type']

html_theme = 'furo'
html_title = f'{project} {version}'
html_baseurl = f"{_cfg.doc_host.rstrip('/')}/{_cfg.doc_baseurl.strip('/')}/"
html_static_path = ['_static']
html_css_files = ['mylib.css']
html_favicon = '_static/favicon.svg'
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    'source_repository': _cfg.git_url + '/',
    'source_branch': _cfg.branch,
    'footer_icons': [{'name': 'GitHub', 'url': _cfg.git_url, 'html': 'GitHub', 'class': ''}],
    'top_of_page_buttons': [],
}
pygments_style = 'friendly'
pygments_dark_style = 'monokai'

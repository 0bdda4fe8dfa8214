"""Learning mode: ``explain`` topics and the ``quiz`` drill, in English and Japanese.

Topic prose lives in ``topics/*.toml`` (one file per topic, both languages); live examples,
preset lists and quiz questions are computed here at run time from the spec library,
``analysis`` and (for a few topics) ``kernels``. Nothing here prints.
"""

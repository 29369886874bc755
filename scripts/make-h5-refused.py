#!/usr/bin/python3
"""Write the HDF5 files of test/fixtures/h5-refused/: Keras weights layouts whose one variable
points outside the file, which the TF-checkpoint reader must refuse without opening anything.
h5wasm cannot write these (the rest of the bad-input files are made by the tests themselves).

Needs h5py (Debian: apt-get install -y python3-h5py; run with /usr/bin/python3).
Usage: /usr/bin/python3 scripts/make-h5-refused.py [OUTDIR]   (default test/fixtures/h5-refused)
"""
import os
import sys

import h5py
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), '..', 'test', 'fixtures', 'h5-refused')
VAR = 'tf_lxmert_model/lxmert/pooler/dense/bias:0'


def keras_file(path, make_variable):
    with h5py.File(path, 'w', track_order=False) as f:
        f.attrs['layer_names'] = np.array([b'lxmert'])
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = b'2.3.0'
        g = f.create_group('lxmert')
        g.attrs['weight_names'] = np.array([VAR.encode()])
        make_variable(g, VAR)


def virtual(g, name):
    # A virtual dataset whose data lives in another file ('secrets.h5', dataset 'data').
    layout = h5py.VirtualLayout(shape=(64,), dtype='<f4')
    layout[:] = h5py.VirtualSource('secrets.h5', 'data', shape=(64,))
    g.create_virtual_dataset(name, layout, fillvalue=0)


def external_storage(g, name):
    # A contiguous dataset whose raw bytes are in another file ('secrets.bin').
    g.create_dataset(name, shape=(64,), dtype='<f4', external=[('secrets.bin', 0, 256)])


def external_link(g, name):
    # The variable is an external link to a dataset in another file.
    parent, leaf = name.rsplit('/', 1)
    g.require_group(parent)[leaf] = h5py.ExternalLink('/etc/secrets.h5', '/data')


os.makedirs(OUT, exist_ok=True)
for fname, make in [('virtual.h5', virtual), ('external_storage.h5', external_storage),
                    ('external_link.h5', external_link)]:
    keras_file(os.path.join(OUT, fname), make)
    print('wrote', os.path.join(OUT, fname), os.path.getsize(os.path.join(OUT, fname)), 'bytes')
